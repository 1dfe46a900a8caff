import { Agent, request } from 'node:http';
import { FoldlineError } from '../../ledger/errors.js';
import type { CloudEvent } from '../../ledger/types.js';
import type { LiveConnection, ReceiptsReply } from './liveConnection.js';

export const appendModes = ['http', 'ws'] as const;
export type AppendMode = (typeof appendModes)[number];

/** Sends one action's events as one append; `via` is the customer's own socket. */
export interface Appender {
  append(events: readonly CloudEvent[], via: LiveConnection): Promise<ReceiptsReply>;
  close(): void;
}

/** Keep-alive sockets at most: an open model may have many appends in flight at once. */
const maxSockets = 256;

/** `POST /v1/events` with a batch, over kept-alive connections. */
export function httpAppender(baseUrl: string, options: { authorization?: string; timeoutMs: number }): Appender {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const url = new URL('/v1/events', baseUrl);
  return {
    append(events) {
      const body = JSON.stringify(events);
      return new Promise((resolve, reject) => {
        const req = request(url, {
          method: 'POST',
          agent,
          timeout: options.timeoutMs,
          headers: {
            'content-type': 'application/cloudevents-batch+json',
            'content-length': Buffer.byteLength(body),
            ...(options.authorization ? { authorization: `Bearer ${options.authorization}` } : {}),
          },
        });
        req.on('timeout', () => req.destroy(new FoldlineError('timeout', `no answer within ${options.timeoutMs} ms`)));
        req.on('error', (error) => reject(error instanceof FoldlineError ? error : new FoldlineError('request_failed', error.message)));
        req.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            try {
              const answer = JSON.parse(text) as ReceiptsReply & { error?: { code: string; message: string } };
              if (response.statusCode === 202) resolve(answer);
              else reject(new FoldlineError(answer.error?.code ?? `http_${response.statusCode}`, answer.error?.message ?? text.slice(0, 200), { status: response.statusCode ?? 500 }));
            } catch (error) {
              reject(new FoldlineError('bad_answer', `unreadable answer (${response.statusCode}): ${(error as Error).message}`));
            }
          });
        });
        req.end(body);
      });
    },
    close() {
      agent.destroy();
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
