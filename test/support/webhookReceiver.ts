import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { signatureHeader, verifySignature } from '../../subscriptions/signature.js';

/** What a receiver got: every delivery that carried a good signature, in arrival order. */
export interface Received {
  id: string;
  subject: string;
  type: string;
  traceparent: string | undefined;
  data: unknown;
}

/** A webhook endpoint on loopback that checks signatures and answers as told. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  badSignatures = 0;
  calls = 0;
  /** What it answers (a status), after waiting `delayMs`. */
  status = 200;
  delayMs = 0;
  private server: Server | undefined;

  constructor(private readonly secret: string) {}

  async listen(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.calls++;
        const body = Buffer.concat(chunks);
        void (async () => {
          if (this.delayMs > 0) await sleep(this.delayMs);
          const status = this.status;
          if (status === 200) {
            if (!verifySignature(this.secret, String(request.headers[signatureHeader] ?? ''), body)) this.badSignatures++;
            else {
              const event = JSON.parse(body.toString('utf8')) as { id: string; subject: string; type: string; data: unknown };
              const traceparent = request.headers['traceparent'];
              this.received.push({ id: event.id, subject: event.subject, type: event.type, traceparent: typeof traceparent === 'string' ? traceparent : undefined, data: event.data });
            }
          }
          response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
        })();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}/hook`;
  }

  /** Distinct event ids received (deliveries are at least once). */
  distinct(): Set<string> {
    return new Set(this.received.map(({ id }) => id));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
