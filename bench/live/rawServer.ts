import uWS from 'uwebsockets';

interface Client {
  key: string;
  /** The newest unsent value, if any: framed when sent, as the gateway does. */
  pending?: { value: unknown };
  /** In the next flush's list. */
  due?: boolean;
  closed?: boolean;
}

export interface RawServer {
  url: string;
  /** Sends a new value of `key` to its subscriber, as the gateway would: newest only while backpressured. */
  publish(key: string, value: unknown): void;
  close(): void;
}

/**
 * A bare uWebSockets.js server speaking just enough of `/v1/live` for the bench: a subscribe
 * frame binds the socket to its key and answers the first value; values go out as view frames
 * under the same backpressure rule and once-per-tick corked flush as the gateway's, with the
 * same care for V8's heap (no Set whose entries come and go: see gateway/live/connection.ts).
 */
export async function startRawServer(options: { token: string; initial: (key: string) => unknown; backpressureBytes: number }): Promise<RawServer> {
  const sockets = new Map<string, uWS.WebSocket<Client>>();
  let due: Array<uWS.WebSocket<Client>> = [];
  const frame = (key: string, value: unknown): string => JSON.stringify({ op: 'view', view: 'cart', key, token: options.token, value });
  const flush = (ws: uWS.WebSocket<Client>): void => {
    const client = ws.getUserData();
    if (client.pending === undefined || ws.getBufferedAmount() > options.backpressureBytes) return;
    const text = frame(client.key, client.pending.value);
    client.pending = undefined;
    ws.cork(() => ws.send(text));
  };
  const flushAll = (): void => {
    const flushing = due;
    due = [];
    for (const ws of flushing) {
      const client = ws.getUserData();
      client.due = false;
      if (!client.closed) flush(ws);
    }
  };
  const app = uWS.App().ws<Client>('/v1/live', {
    compression: uWS.DISABLED,
    maxBackpressure: 16 * 1024 * 1024,
    message: (ws, message) => {
      const { key } = JSON.parse(Buffer.from(message).toString()) as { key: string };
      ws.getUserData().key = key;
      sockets.set(key, ws);
      ws.send(frame(key, options.initial(key)));
    },
    drain: flush,
    close: (ws) => {
      const client = ws.getUserData();
      client.closed = true;
      sockets.delete(client.key);
    },
  });
  const listen = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(socket) : reject(new Error('raw server cannot listen')))),
  );
  return {
    url: `ws://127.0.0.1:${uWS.us_socket_local_port(listen)}/v1/live`,
    publish(key, value) {
      const ws = sockets.get(key);
      if (!ws) return;
      const client = ws.getUserData();
      client.pending = { value };
      if (client.due) return;
      client.due = true;
      if (due.length === 0) queueMicrotask(flushAll);
      due.push(ws);
    },
    close() {
      uWS.us_listen_socket_close(listen);
      app.close();
    },
  };
}
