import WebSocket from 'ws';

/** A frame the server sent on /v1/live. */
export interface ServerFrame {
  op: 'view' | 'receipts' | 'error';
  ref?: string | number;
  view?: string;
  key?: string;
  token?: string;
  traceparent?: string;
  value?: unknown;
  receipts?: Array<{ id: string; stream: string; shard: number; seq: string; duplicate: boolean }>;
  views?: Array<{ view: string; key: string; token: string; value: unknown }>;
  error?: { code: string; message: string; index?: number; path?: string };
}

/** A `ws` client of /v1/live that records every frame and can wait for one. */
export class LiveClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      for (const waiter of this.waiters) waiter();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a connection; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options);
      socket.once('open', () => resolve(new LiveClient(socket)));
      socket.once('unexpected-response', (_request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode, body: Buffer.concat(chunks).toString() })));
      });
      socket.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (from `from` on) that matches, waiting up to `timeoutMs`. */
  async next(match: (frame: ServerFrame) => boolean, timeoutMs = 5000, from = 0): Promise<ServerFrame> {
    const found = (): ServerFrame | undefined => this.frames.slice(from).find(match);
    return (
      found() ??
      new Promise<ServerFrame>((resolve, reject) => {
        const check = (): void => {
          const frame = found();
          if (!frame) return;
          finish();
          resolve(frame);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-3)).slice(0, 500)}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          this.waiters.delete(check);
        };
        this.waiters.add(check);
      })
    );
  }

  /** Views pushed for one view key, oldest first. */
  values(view: string, key: string): ServerFrame[] {
    return this.frames.filter((frame) => frame.op === 'view' && frame.view === view && frame.key === key);
  }

  close(): void {
    this.socket.close();
  }
}
