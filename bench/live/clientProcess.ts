import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ClientCounts {
  frames: number;
  bytes: number;
  seconds: number;
  /** CPU use of the client process over the window (1 = one core). */
  cores: number;
}

/** The parent's handle on bench/live/pushClients.ts, run as a separate process. */
export class PushClients {
  private constructor(private readonly child: ChildProcess) {}

  /** Forks the clients and resolves once each has the first value of its subscription. */
  static async start(wsUrl: string, count: number): Promise<PushClients> {
    const script = fileURLToPath(new URL('./pushClients.ts', import.meta.url));
    const child = fork(script, [wsUrl, String(count)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`push clients exited with ${code} before they were ready`)));
    });
    return new PushClients(child);
  }

  start(): void {
    this.child.send({ op: 'start' });
  }

  stop(): Promise<ClientCounts> {
    return new Promise((resolve) => {
      this.child.once('message', (counts: ClientCounts) => resolve(counts));
      this.child.send({ op: 'stop' });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ op: 'exit' });
    await exited;
  }
}
