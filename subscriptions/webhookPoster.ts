import { Pool, type Dispatcher } from 'undici';

/** A POST answered with anything but a 2xx, or not answered: why, in a few words. */
export type DeliveryFailure = string;

/**
 * POSTs to one webhook endpoint over kept-alive connections (undici's pool: less CPU than
 * node:http, which matters with fifty subscribers on the serving thread). Resolves to
 * undefined once a 2xx answer arrived, else to the failure; it never throws.
 */
export class WebhookPoster {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    url: string,
    connections: number,
    private readonly timeoutMs: number,
  ) {
    const parsed = new URL(url);
    this.pool = new Pool(parsed.origin, { connections });
    this.path = parsed.pathname + parsed.search;
  }

  post(body: Buffer, headers: Record<string, string>): Promise<DeliveryFailure | undefined> {
    return new Promise((resolve) => {
      // A dispatch handler rather than `request`: no response stream is made for a body that is only drained.
      this.pool.dispatch({ path: this.path, method: 'POST', headers, body, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs }, new AnswerHandler(resolve, this.timeoutMs));
    });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Reads one answer's status and drops its body; its methods live on the prototype, not made per POST. */
class AnswerHandler implements Dispatcher.DispatchHandlers {
  private status = 0;

  constructor(
    private readonly resolve: (failure: DeliveryFailure | undefined) => void,
    private readonly timeoutMs: number,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.resolve(this.status >= 200 && this.status < 300 ? undefined : `HTTP ${this.status}`);
  }

  onError(error: Error): void {
    const code = (error as { code?: string }).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') this.resolve(`no answer within ${this.timeoutMs} ms`);
    else this.resolve(error.message || String(code));
  }
}
