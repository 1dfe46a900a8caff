import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Received } from './webhookReceiver.js';

/** What the receivers' process is asked, and answers. */
export type ReceiversRequest =
  | { op: 'listen'; count: number; secret: string }
  | { op: 'set'; index: number; status?: number; delayMs?: number }
  | { op: 'report' };

export interface ReceiverReport {
  received: Received[];
  badSignatures: number;
  calls: number;
}

/**
 * Webhook receivers (WebhookReceiver) in a child process, so that receiving takes nothing
 * of the event loop of the service under test: what the test measures of the service is
 * then its own.
 */
export class RemoteReceivers {
  private next = 0;
  private readonly pending = new Map<number, (answer: unknown) => void>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { id: number; answer: unknown }) => {
      this.pending.get(message.id)?.(message.answer);
      this.pending.delete(message.id);
    });
  }

  static async start(count: number, secret: string): Promise<{ receivers: RemoteReceivers; urls: string[] }> {
    const child = fork(fileURLToPath(new URL('./webhookReceiversProcess.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const receivers = new RemoteReceivers(child);
    const urls = (await receivers.ask({ op: 'listen', count, secret })) as string[];
    return { receivers, urls };
  }

  set(index: number, behaviour: { status?: number; delayMs?: number }): Promise<unknown> {
    return this.ask({ op: 'set', index, ...behaviour });
  }

  async report(): Promise<ReceiverReport[]> {
    return (await this.ask({ op: 'report' })) as ReceiverReport[];
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
  }

  private ask(request: ReceiversRequest): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ id, request });
    });
  }
}
