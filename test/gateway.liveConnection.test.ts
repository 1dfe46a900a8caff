import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DrivenViews } from '../bench/live/drivenViews.js';
import { frontier } from '../crdt/index.js';
import type { Appender } from '../gateway/append.js';
import { AccessGuard } from '../gateway/auth/guard.js';
import { FrameCache, LiveConnection, type LiveSocket } from '../gateway/live/connection.js';
import { GatewayMetrics } from '../gateway/metrics.js';
import { defaultLimits } from '../gateway/types.js';

/*
 * One LiveConnection's pending values, without a network: a socket that records what it is
 * sent and reports whatever buffered amount the test sets, views the test publishes to.
 */

class RecordingSocket implements LiveSocket {
  readonly sent: Array<{ key: string; value: unknown }> = [];
  buffered = 0;
  send(message: string): number {
    const frame = JSON.parse(message) as { op: string; key: string; value: unknown };
    if (frame.op === 'view') this.sent.push({ key: frame.key, value: frame.value });
    return 1;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  cork(callback: () => void): void {
    callback();
  }
  end(): void {}
}

/** A connection subscribed to `keys`, their first values sent and forgotten. */
async function connection(keys: readonly string[]) {
  const socket = new RecordingSocket();
  const views = new DrivenViews('cart', () => 0, frontier());
  let flushesAsked = 0;
  const live = new LiveConnection(socket, undefined, {
    views,
    appender: {} as Appender,
    guard: new AccessGuard(undefined),
    metrics: new GatewayMetrics(new Registry()),
    limits: defaultLimits,
    logger: pino({ level: 'silent' }),
    scheduleFlush: () => flushesAsked++,
  });
  const receive = (op: string, key: string): void => live.receive(new TextEncoder().encode(JSON.stringify({ op, view: 'cart', key })).buffer as ArrayBuffer, false);
  const subscribe = async (key: string): Promise<void> => {
    receive('subscribe', key);
    // The views answer the subscription after an await.
    await new Promise((resolve) => setImmediate(resolve));
  };
  const unsubscribe = (key: string): void => receive('unsubscribe', key);
  const flush = (): void => live.flush(new FrameCache());
  for (const key of keys) await subscribe(key);
  flush();
  socket.sent.length = 0;
  return { socket, views, live, subscribe, unsubscribe, flush, flushesAsked: () => flushesAsked };
}

describe('a live connection’s pending values', () => {
  it('sends the newest value of each subscription, in the order they first became pending, and asks for one flush at a time', async () => {
    const c = await connection(['a', 'b']);
    const asked = c.flushesAsked();
    c.views.publish('b', 1);
    c.views.publish('a', 1);
    c.views.publish('b', 2);
    expect(c.flushesAsked()).toBe(asked + 1);
    c.flush();
    expect(c.socket.sent).toEqual([
      { key: 'b', value: 2 },
      { key: 'a', value: 1 },
    ]);
    c.views.publish('a', 2);
    expect(c.flushesAsked()).toBe(asked + 2);
  });

  it('holds the rest back while the socket is over its buffer limit, then sends them in order', async () => {
    const c = await connection(['a', 'b', 'c']);
    for (const key of ['a', 'b', 'c']) c.views.publish(key, 1);
    const send = c.socket.send.bind(c.socket);
    // The first send fills the buffer.
    c.socket.send = (message) => {
      c.socket.buffered = defaultLimits.pushBackpressureBytes + 1;
      return send(message);
    };
    c.flush();
    expect(c.socket.sent.map(({ key }) => key)).toEqual(['a']);
    c.views.publish('c', 2);
    c.socket.buffered = 0;
    c.socket.send = send;
    c.flush();
    expect(c.socket.sent).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 1 },
      { key: 'c', value: 2 },
    ]);
  });

  it('drops the pending value of an unsubscribed view, and a new subscription to it gets only its own values', async () => {
    const c = await connection(['a', 'b']);
    c.views.publish('a', 1);
    c.views.publish('b', 1);
    c.unsubscribe('a');
    c.flush();
    expect(c.socket.sent).toEqual([{ key: 'b', value: 1 }]);
    await c.subscribe('a');
    c.views.publish('a', 2);
    c.flush();
    // The new subscription's current value (1) was still pending when 2 came: only 2 goes out.
    expect(c.socket.sent).toEqual([
      { key: 'b', value: 1 },
      { key: 'a', value: 2 },
    ]);
  });

  it('sends nothing once the socket has closed', async () => {
    const c = await connection(['a']);
    c.views.publish('a', 1);
    c.live.closedBySocket();
    c.flush();
    expect(c.socket.sent).toEqual([]);
  });
});
