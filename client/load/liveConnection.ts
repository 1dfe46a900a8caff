import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { FoldlineError } from '../../base/errors.js';
import type { Receipt } from '../../ledger/types.js';

/** A `{op:"view"}` frame, stamped with when it was received. */
export interface ViewPush {
  view: string;
  key: string;
  token: string;
  value: unknown;
  at: number;
}

export interface ReceiptsReply {
  receipts: Receipt[];
  token: string;
}

interface Pending {
  resolve(reply: ReceiptsReply): void;
  reject(error: Error): void;
}

/** `http://host:port` → `ws://host:port/v1/live`. */
export function liveUrl(baseUrl: string): string {
  const url = new URL('/v1/live', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/**
 * One client socket of `/v1/live` (docs/websocket.md): view pushes go to `onPush`; appends sent on it
 * resolve with their receipts, matched by `ref`; error frames without a ref go to `onError`.
 */
export class LiveConnection {
  private readonly pending = new Map<string, Pending>();
  private nextRef = 0;

  private constructor(
    private readonly socket: WebSocket,
    private readonly onPush: (push: ViewPush) => void,
    private readonly onError: (error: FoldlineError) => void,
  ) {
    socket.on('message', (data) => this.receive(data.toString()));
    socket.on('close', (code) => this.failPending(new FoldlineError('closed', `the server closed the socket (${code})`)));
    socket.on('error', (error) => onError(new FoldlineError('socket_error', error.message)));
  }

  static open(url: string, handlers: { onPush: (push: ViewPush) => void; onError: (error: FoldlineError) => void; authorization?: string; timeoutMs: number }): Promise<LiveConnection> {
    const socket = new WebSocket(liveUrl(url), {
      handshakeTimeout: handlers.timeoutMs,
      perMessageDeflate: false,
      ...(handlers.authorization ? { headers: { authorization: `Bearer ${handlers.authorization}` } } : {}),
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new LiveConnection(socket, handlers.onPush, handlers.onError)));
      socket.once('error', (error) => reject(new FoldlineError('connect_failed', `cannot open ${liveUrl(url)}: ${error.message}`)));
    });
  }

  subscribe(view: string, key: string, after?: string): void {
    this.send({ op: 'subscribe', view, key, ...(after === undefined ? {} : { after }) });
  }

  append(events: readonly unknown[]): Promise<ReceiptsReply> {
    const ref = String(++this.nextRef);
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.send({ op: 'append', events, ref });
    });
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close(1000);
    });
  }

  private send(message: unknown): void {
    if (this.socket.readyState !== WebSocket.OPEN) throw new FoldlineError('closed', 'the socket is not open');
    this.socket.send(JSON.stringify(message));
  }

  private receive(text: string): void {
    const at = performance.now();
    const frame = JSON.parse(text) as { op: string; ref?: string; error?: { code: string; message: string } } & Partial<ViewPush> & Partial<ReceiptsReply>;
    switch (frame.op) {
      case 'view':
        this.onPush({ view: frame.view!, key: frame.key!, token: frame.token!, value: frame.value, at });
        return;
      case 'receipts':
        this.take(frame.ref)?.resolve({ receipts: frame.receipts!, token: frame.token! });
        return;
      case 'error': {
        const error = new FoldlineError(frame.error?.code ?? 'unknown', frame.error?.message ?? 'error frame without an error');
        const pending = this.take(frame.ref);
        if (pending) pending.reject(error);
        else this.onError(error);
        return;
      }
      default:
        this.onError(new FoldlineError('unexpected_frame', `unexpected frame op ${JSON.stringify(frame.op)}`));
    }
  }

  private take(ref: string | undefined): Pending | undefined {
    if (ref === undefined) return undefined;
    const pending = this.pending.get(ref);
    this.pending.delete(ref);
    return pending;
  }

  private failPending(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
