import { Pool } from 'undici';

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

  async post(body: string, headers: Record<string, string>): Promise<DeliveryFailure | undefined> {
    try {
      const response = await this.pool.request({ path: this.path, method: 'POST', headers, body, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
      // The answer's body is not read, only drained, so that the connection is kept.
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 300 ? undefined : `HTTP ${response.statusCode}`;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${this.timeoutMs} ms`;
      return (error as Error).message || String(code);
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
