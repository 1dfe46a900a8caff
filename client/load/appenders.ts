import { Pool } from 'undici';
import { FoldlineError } from '../../base/errors.js';
import type { CloudEvent } from '../../ledger/types.js';
import type { LiveConnection, ReceiptsReply } from './liveConnection.js';

export const appendModes = ['http', 'ws'] as const;
export type AppendMode = (typeof appendModes)[number];

/** Sends one action's events as one append; `via` is the customer's own socket. */
export interface Appender {
  append(events: readonly CloudEvent[], via: LiveConnection): Promise<ReceiptsReply>;
  close(): void;
}

/** Keep-alive connections at most: an open model may have many appends in flight at once. */
const maxConnections = 256;

/**
 * `POST /v1/events` with a batch, over kept-alive connections. undici's pool, not node:http:
 * the load generator shares the machine with the server it measures, and it takes less CPU
 * with undici (docs/benchmarks.md).
 */
export function httpAppender(baseUrl: string, options: { authorization?: string; timeoutMs: number }): Appender {
  const pool = new Pool(new URL(baseUrl).origin, { connections: maxConnections });
  const headers = {
    'content-type': 'application/cloudevents-batch+json',
    ...(options.authorization ? { authorization: `Bearer ${options.authorization}` } : {}),
  };
  return {
    async append(events) {
      let answer: { status: number; text: string };
      try {
        const response = await pool.request({
          path: '/v1/events',
          method: 'POST',
          headers,
          body: JSON.stringify(events),
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        answer = { status: response.statusCode, text: await response.body.text() };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') throw new FoldlineError('timeout', `no answer within ${options.timeoutMs} ms`);
        throw new FoldlineError('request_failed', (error as Error).message);
      }
      let reply: ReceiptsReply & { error?: { code: string; message: string } };
      try {
        reply = JSON.parse(answer.text) as typeof reply;
      } catch (error) {
        throw new FoldlineError('bad_answer', `unreadable answer (${answer.status}): ${(error as Error).message}`);
      }
      if (answer.status === 202) return reply;
      throw new FoldlineError(reply.error?.code ?? `http_${answer.status}`, reply.error?.message ?? answer.text.slice(0, 200));
    },
    close() {
      void pool.destroy();
    },
  };
}

/** `{op:"append"}` on the customer's own socket, answered by `{op:"receipts"}`. */
export function wsAppender(options: { timeoutMs: number }): Appender {
  return {
    append(events, via) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new FoldlineError('timeout', `no receipts within ${options.timeoutMs} ms`)), options.timeoutMs);
        via.append(events).then(resolve, reject).finally(() => clearTimeout(timer));
      });
    },
    close() {},
  };
}
