import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontierCovers, positionKey } from '../crdt/index.js';
import { decodeToken, encodeToken } from '../ledger/token.js';
import { LiveClient, type ServerFrame } from './support/liveClient.js';
import { maxNotesKey, note, notesStream, startNotesServer, type NotesServer } from './support/notesGateway.js';
import { cartChange, productCreated, startRetailServer } from './support/retailGateway.js';

/*
 * /v1/live against a real gateway over the generic notes domain: a real projection runtime
 * folds a memory ledger, a real view engine pushes, `ws` is the client.
 */

let server: NotesServer;
let liveUrl: string;
beforeAll(async () => {
  server = await startNotesServer({ limits: { maxBatch: 5, maxWaitMs: 2000, defaultWaitMs: 300, maxSubscriptions: 3, maxFrameBytes: 4096 } });
  liveUrl = `ws://127.0.0.1:${server.gateway.port}/v1/live`;
});
afterAll(async () => {
  await server.close();
});

const open = (): Promise<LiveClient> => LiveClient.open(liveUrl);

async function appendHttp(events: unknown[], query = ''): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/v1/events${query}`, {
    method: 'POST',
    body: JSON.stringify(events),
    headers: { 'content-type': 'application/cloudevents-batch+json' },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const texts = (frame: ServerFrame): string[] => (frame.value as { texts: string[] }).texts;
const isView = (key: string, predicate: (frame: ServerFrame) => boolean = () => true) => (frame: ServerFrame) =>
  frame.op === 'view' && frame.key === key && predicate(frame);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('subscribe, push, unsubscribe', () => {
  it('pushes the current value, then every new one, and nothing after unsubscribe', async () => {
    const client = await open();
    try {
      client.send({ op: 'subscribe', view: 'notes', key: 'live-a', ref: 'a' });
      expect(texts(await client.next(isView('live-a')))).toEqual([]);
      await appendHttp([note('live-a', 'one')]);
      expect(texts(await client.next(isView('live-a', (f) => texts(f).length === 1)))).toEqual(['one']);
      await appendHttp([note('live-a', 'two')]);
      const second = await client.next(isView('live-a', (f) => texts(f).length === 2));
      expect(frontierCovers(decodeToken(second.token!), decodeToken(client.values('notes', 'live-a')[1]!.token!))).toBe(true);
      client.send({ op: 'unsubscribe', view: 'notes', key: 'live-a' });
      await sleep(50);
      const before = client.values('notes', 'live-a').length;
      // Write-through: once answered, the view has been recomputed (and would have been pushed).
      expect((await appendHttp([note('live-a', 'three')], '?await=notes/live-a')).status).toBe(200);
      await sleep(100);
      expect(client.values('notes', 'live-a')).toHaveLength(before);
    } finally {
      client.close();
    }
  });

  it('subscribes with after: the first pushed value already reflects the token (one or several)', async () => {
    for (let round = 0; round < 10; round++) {
      const key = `after-${round}`;
      const { json } = await appendHttp([note(key, 'first'), note(`${key}-other`, 'x')]);
      const other = await appendHttp([note(`${key}-elsewhere`, 'y')]);
      const client = await open();
      try {
        const tokens = round % 2 ? [json.token as string] : [json.token as string, other.json.token as string];
        client.send({ op: 'subscribe', view: 'notes', key, after: round % 2 ? tokens[0] : tokens, ref: 1 });
        const first = await client.next(isView(key));
        expect(texts(first)).toEqual(['first']);
        for (const token of tokens) expect(frontierCovers(decodeToken(first.token!), decodeToken(token))).toBe(true);
      } finally {
        client.close();
      }
    }
  });

  it('holds the first push back until the views reach a token ahead of them', async () => {
    const client = await open();
    try {
      const { json } = await appendHttp([note('ahead', 'first')]);
      const [position, seq] = Object.entries(decodeToken(json.token as string)).find(([p]) => p === positionKey(notesStream, (json.receipts as Array<{ shard: number }>)[0]!.shard))!;
      // The position of the next event of the same subject: not folded, not even appended yet.
      const next = encodeToken({ [position]: String(BigInt(seq) + 1n) });
      client.send({ op: 'subscribe', view: 'notes', key: 'ahead', after: next, ref: 'ahead' });
      await sleep(50);
      expect(client.values('notes', 'ahead')).toEqual([]);
      await appendHttp([note('ahead', 'second')]);
      const first = await client.next(isView('ahead'));
      expect(texts(first)).toEqual(['first', 'second']);
      expect(frontierCovers(decodeToken(first.token!), decodeToken(next))).toBe(true);
    } finally {
      client.close();
    }
  });

  it('answers a token the views cannot reach in time with an error frame carrying the ref', async () => {
    const client = await open();
    try {
      const ahead = encodeToken({ [positionKey(notesStream, 2)]: '999999' });
      client.send({ op: 'subscribe', view: 'notes', key: 'never', after: ahead, ref: 'late' });
      const error = await client.next((f) => f.op === 'error');
      expect(error).toMatchObject({ ref: 'late', error: { code: 'not_caught_up' } });
      expect(client.values('notes', 'never')).toEqual([]);
      // The refused subscription does not count against the cap.
      for (const key of ['k1', 'k2', 'k3']) client.send({ op: 'subscribe', view: 'notes', key });
      await client.next(isView('k3'));
    } finally {
      client.close();
    }
  });

  it('caps subscriptions per connection with too_many_subscriptions; an unsubscribe frees a place', async () => {
    const client = await open();
    try {
      for (const key of ['c1', 'c2', 'c3']) client.send({ op: 'subscribe', view: 'notes', key });
      client.send({ op: 'subscribe', view: 'notes', key: 'c4', ref: 4 });
      expect(await client.next((f) => f.op === 'error')).toMatchObject({ ref: 4, error: { code: 'too_many_subscriptions' } });
      // Subscribing again to a held view key replaces it, it does not take a place.
      client.send({ op: 'subscribe', view: 'notes', key: 'c1', ref: 'again' });
      client.send({ op: 'unsubscribe', view: 'notes', key: 'c2' });
      client.send({ op: 'subscribe', view: 'notes', key: 'c4', ref: 5 });
      await client.next(isView('c4'));
      expect(client.frames.filter((f) => f.op === 'error')).toHaveLength(1);
    } finally {
      client.close();
    }
  });
});

describe('append over the socket', () => {
  it('answers receipts and a token with the ref; with await, the views reflecting it', async () => {
    const client = await open();
    try {
      const events = [note('ws-append', 'a'), note('ws-append', 'b')];
      client.send({ op: 'append', events, ref: 'r1' });
      const answer = await client.next((f) => f.op === 'receipts' && f.ref === 'r1');
      expect(answer.receipts!.map((r) => [r.id, r.stream, r.duplicate])).toEqual(events.map((e) => [e.id, notesStream, false]));
      const read = await fetch(`${server.url}/v1/views/notes/ws-append?after=${answer.token}`);
      expect(((await read.json()) as { value: { texts: string[] } }).value.texts).toEqual(['a', 'b']);

      client.send({ op: 'append', events: [note('ws-append', 'c')], await: ['notes/ws-append'], ref: 'r2' });
      const through = await client.next((f) => f.op === 'receipts' && f.ref === 'r2');
      expect(through.views).toEqual([{ view: 'notes', key: 'ws-append', token: expect.stringMatching(/^v1\./), value: { subject: 'ws-append', texts: ['a', 'b', 'c'] } }]);

      client.send({ op: 'append', events: events, ref: 'dup' });
      expect((await client.next((f) => f.ref === 'dup')).receipts!.every((r) => r.duplicate)).toBe(true);
    } finally {
      client.close();
    }
  });

  it('refuses an invalid batch whole with an error frame naming the event; the connection stays up', async () => {
    const client = await open();
    try {
      client.send({ op: 'append', events: [note('ws-bad', 'ok'), { ...note('ws-bad', 'x'), data: {} }], ref: 7 });
      expect(await client.next((f) => f.ref === 7)).toMatchObject({ op: 'error', error: { code: 'invalid_event', index: 1, path: '/data/text' } });
      client.send({ op: 'append', events: Array.from({ length: 6 }, () => note('ws-bad', 'many')), ref: 8 });
      expect(await client.next((f) => f.ref === 8)).toMatchObject({ op: 'error', error: { code: 'batch_too_large' } });
      const read = await (await fetch(`${server.url}/v1/views/notes/ws-bad`)).json();
      expect((read as { value: { texts: string[] } }).value.texts).toEqual([]);
      client.send({ op: 'append', events: [note('ws-bad', 'fine')], ref: 9 });
      expect((await client.next((f) => f.ref === 9)).op).toBe('receipts');
    } finally {
      client.close();
    }
  });
});

describe('bad and abusive clients', () => {
  const malformed: Array<[unknown, string]> = [
    ['not json', 'malformed_json'],
    ['[1,2]', 'bad_frame'],
    [{ op: 'dance' }, 'unknown_op'],
    [{ op: 'subscribe', view: 'notes' }, 'bad_frame'],
    [{ op: 'subscribe', view: 'notes', key: 'k', after: 'v1.%%%' }, 'bad_token'],
    [{ op: 'append', events: 'nope' }, 'bad_frame'],
    [{ op: 'append', events: [], await: ['no-slash'] }, 'bad_await'],
    [{ op: 'subscribe', view: 'nope', key: 'k' }, 'unknown_view'],
    [{ op: 'subscribe', view: 'notes', key: 'k'.repeat(maxNotesKey + 1) }, 'bad_key'],
  ];

  it('answers each bad message with an error frame (with its ref when usable) and stays open', async () => {
    const client = await open();
    try {
      for (const [frame, code] of malformed) {
        const from = client.frames.length;
        client.send(typeof frame === 'string' ? frame : { ...(frame as object), ref: 'bad' });
        const error = await client.next((f) => f.op === 'error', 2000, from);
        expect(error.error!.code).toBe(code);
        if (typeof frame !== 'string') expect(error.ref).toBe('bad');
      }
      client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
      expect((await client.next((f) => f.error?.code === 'binary_frame')).op).toBe('error');
      client.send({ op: 'subscribe', view: 'notes', key: 'still-open' });
      await client.next(isView('still-open'));
    } finally {
      client.close();
    }
  });

  it('closes a client that keeps sending bad messages with 1008', async () => {
    const client = await open();
    for (let i = 0; i < 25; i++) client.send('{');
    const { code } = await client.closed;
    expect(code).toBe(1008);
    expect(client.frames.filter((f) => f.error?.code === 'malformed_json').length).toBeGreaterThanOrEqual(20);
  });

  it('closes the connection with 1009 for a message over the size limit, and stays healthy', async () => {
    const client = await open();
    client.send({ op: 'append', events: [note('big', 'x'.repeat(5000))] });
    expect(await client.closed).toMatchObject({ code: 1009 });
    // Far past the limit, uWebSockets.js itself drops the connection (no close frame: 1006).
    const huge = await open();
    huge.send('x'.repeat(100_000));
    expect((await huge.closed).code).toBe(1006);
    expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
  });

  it('survives 1,000 malformed messages without growing its memory', async () => {
    // An isolated server whose abuse limit is out of reach: every message is answered.
    const tolerant = await startNotesServer({ limits: { maxBadFrames: 1_000_000 } });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const client = await LiveClient.open(`ws://127.0.0.1:${tolerant.gateway.port}/v1/live`);
    const kinds = ['}{', '{"op":"subscribe"}', '{"op":42,"ref":1}', '{"op":"append","events":{}}', '"text"', 'null', '{"op":"subscribe","view":"notes","key":"k","after":7}'];
    const round = async (): Promise<number> => {
      // About 2 KB each: 3,000 kept anywhere would show as 6 MB.
      for (let i = 0; i < 1000; i++) client.send(kinds[i % kinds.length]! + ' '.repeat(2000 + (i % 50)));
      await client.next(() => client.frames.length >= 1000, 20_000);
      expect(client.frames.every((f) => f.op === 'error')).toBe(true);
      // The test's own record of frames is not the server's memory.
      client.frames.length = 0;
      await sleep(20);
      gc();
      const { heapUsed, external } = process.memoryUsage();
      return heapUsed + external;
    };
    try {
      await round();
      const before = await round();
      const after = [await round(), await round(), await round()];
      // 3,000 more messages: bounded by noise, not by what they carried.
      expect(Math.max(...after) - before).toBeLessThan(1024 * 1024);
      client.send({ op: 'subscribe', view: 'notes', key: 'after-abuse' });
      await client.next(isView('after-abuse'));
      expect((await fetch(`${tolerant.url}/v1/health`)).status).toBe(200);
    } finally {
      client.close();
      await tolerant.close();
    }
  });
});

describe('slow clients', () => {
  it('coalesces pushes to a client that does not read: it gets the newest value, never a queue of old ones', async () => {
    const slow = await startNotesServer({ limits: { pushBackpressureBytes: 16 * 1024, maxBatch: 100 } });
    const client = await LiveClient.open(`ws://127.0.0.1:${slow.gateway.port}/v1/live`);
    try {
      client.send({ op: 'subscribe', view: 'notes', key: 'big' });
      await client.next(isView('big'));
      // Stop reading: the kernel buffers fill, then uWebSockets.js buffers, then values are coalesced.
      client.socket.pause();
      const appends = 150;
      let lastToken = '';
      for (let i = 0; i < appends; i++) {
        const response = await fetch(`${slow.url}/v1/events`, {
          method: 'POST',
          body: JSON.stringify(note('big', `${String(i).padStart(4, '0')}${'x'.repeat(8000)}`)),
          headers: { 'content-type': 'application/cloudevents+json' },
        });
        lastToken = ((await response.json()) as { token: string }).token;
      }
      await slow.views.waitFor(decodeToken(lastToken), 5000);
      await slow.views.settled();
      client.socket.resume();
      const last = await client.next(isView('big', (f) => texts(f).length === appends), 15_000);
      expect(frontierCovers(decodeToken(last.token!), decodeToken(lastToken))).toBe(true);
      const pushed = client.values('notes', 'big');
      expect(pushed.length).toBeLessThan(appends);
      // In order: each pushed value covers the one before.
      for (let i = 1; i < pushed.length; i++) expect(texts(pushed[i]!).length).toBeGreaterThan(texts(pushed[i - 1]!).length);
      const metrics = await (await fetch(`${slow.url}/metrics`)).text();
      expect(Number(/^foldline_live_coalesced_total ([0-9]+)/m.exec(metrics)![1])).toBeGreaterThan(0);
      expect(Number(/^foldline_live_pushes_total ([0-9]+)/m.exec(metrics)![1])).toBe(pushed.length);
      expect(metrics).toMatch(/^foldline_live_connections 1$/m);
      expect(metrics).toMatch(/^foldline_live_subscriptions 1$/m);
    } finally {
      client.close();
      await slow.close();
    }
  });
});

describe('acceptance: 200 live carts while 2,000 events are appended', () => {
  it('each client ends on the final view and never receives a value older than its subscribe token', async () => {
    const retail = await startRetailServer();
    const clients: LiveClient[] = [];
    const post = async (events: unknown[]): Promise<string> => {
      const response = await fetch(`${retail.url}/v1/events`, { method: 'POST', body: JSON.stringify(events), headers: { 'content-type': 'application/cloudevents-batch+json' } });
      expect(response.status).toBe(202);
      return ((await response.json()) as { token: string }).token;
    };
    try {
      const skus = Array.from({ length: 20 }, (_, i) => `sku-${i}`);
      let latestToken = await post(skus.map((sku, i) => productCreated(sku, 100 * (i + 1))));
      const customers = Array.from({ length: 200 }, (_, i) => `c-${i}`);
      const subscribedWith = new Map<string, string>();
      const subscribe = async (customerId: string): Promise<void> => {
        const client = await LiveClient.open(retail.liveUrl);
        clients.push(client);
        subscribedWith.set(customerId, latestToken);
        client.send({ op: 'subscribe', view: 'cart', key: customerId, after: latestToken, ref: customerId });
      };
      // Half subscribe before the traffic, half while it runs, each with the newest token then.
      await Promise.all(customers.slice(0, 100).map(subscribe));
      let random = 7;
      const next = (n: number): number => {
        random = (random * 1103515245 + 12345) % 2 ** 31;
        return random % n;
      };
      const events = Array.from({ length: 2000 }, () =>
        cartChange(next(3) === 0 ? 'removed' : 'added', customers[next(customers.length)]!, skus[next(skus.length)]!, 1 + next(3)),
      );
      const batches = Array.from({ length: 200 }, (_, i) => events.slice(i * 10, i * 10 + 10));
      const late = customers.slice(100);
      for (let i = 0; i < batches.length; i += 4) {
        const tokens = await Promise.all(batches.slice(i, i + 4).map(post));
        latestToken = tokens.at(-1)!;
        if (late.length > 0) await Promise.all(late.splice(0, 4).map(subscribe));
      }
      const finalToken = await post([]);
      const finals = await Promise.all(
        customers.map(async (customerId) => {
          const response = await fetch(`${retail.url}/v1/views/cart/${customerId}?after=${finalToken}`);
          return ((await response.json()) as { value: unknown }).value;
        }),
      );
      await Promise.all(
        customers.map((customerId, i) =>
          clients[i]!.next(() => {
            const pushed = clients[i]!.values('cart', customerId);
            return pushed.length > 0 && JSON.stringify(pushed.at(-1)!.value) === JSON.stringify(finals[i]);
          }, 20_000),
        ),
      );
      customers.forEach((customerId, i) => {
        const pushed = clients[i]!.values('cart', customerId);
        expect(pushed.at(-1)!.value).toEqual(finals[i]);
        const required = decodeToken(subscribedWith.get(customerId)!);
        let previous = required;
        for (const frame of pushed) {
          const token = decodeToken(frame.token!);
          expect(frontierCovers(token, required)).toBe(true);
          expect(frontierCovers(token, previous)).toBe(true);
          previous = token;
        }
        expect(clients[i]!.frames.filter((f) => f.op === 'error')).toEqual([]);
      });
    } finally {
      for (const client of clients) client.close();
      await retail.close();
    }
  });
});
