import { FoldlineError } from '../base/errors.js';

/** A running foldline's `/v1/subscriptions` API, as `foldline subscriptions` uses it. */
export class SubscriptionsClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {}

  add(subscription: { name: string; url: string; secret: string; types?: string[]; views?: string[]; from?: 'now' | 'start' }): Promise<Record<string, unknown>> {
    return this.call('POST', '/v1/subscriptions', subscription);
  }

  async list(): Promise<Array<Record<string, unknown>>> {
    return ((await this.call('GET', '/v1/subscriptions')) as { subscriptions: Array<Record<string, unknown>> }).subscriptions;
  }

  remove(name: string): Promise<Record<string, unknown>> {
    return this.call('DELETE', `/v1/subscriptions/${encodeURIComponent(name)}`);
  }

  replayDead(name: string): Promise<Record<string, unknown>> {
    return this.call('POST', `/v1/subscriptions/${encodeURIComponent(name)}/replay-dead`);
  }

  /** The server's answer, or its refusal as the FoldlineError it names. */
  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new FoldlineError('unreachable', `cannot reach ${this.baseUrl} (${cause})`);
    }
    const text = await response.text();
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new FoldlineError('bad_answer', `unreadable answer (${response.status}): ${text.slice(0, 200)}`);
    }
    if (response.ok) return answer;
    const error = answer['error'] as { code?: string; message?: string; path?: string } | undefined;
    throw new FoldlineError(error?.code ?? `http_${response.status}`, error?.message ?? `the server answered ${response.status}`);
  }
}
