import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FoldlineError } from '../../base/errors.js';
import { canonicalJson, compareSeq, frontierCovers, positionKey, type Frontier } from '../../crdt/index.js';
import { shardOf } from '../../ledger/shards.js';
import { decodeToken, encodeToken, mergeTokens } from '../../ledger/token.js';
import type { CloudEvent, Ledger, LedgerRecord, Receipt, StreamRouter, StreamSpec } from '../../ledger/types.js';

export interface LedgerFixture {
  ledger: Ledger;
  /** Durable adapters: opens the same storage again. The suite closes the previous ledger first. */
  reopen?: () => Promise<Ledger>;
  /** Removes the storage; every ledger of the fixture is closed by then. */
  cleanup: () => Promise<void>;
}

export type LedgerFactory = (streams: readonly StreamSpec[], route: StreamRouter) => Promise<LedgerFixture>;

/** Two streams; the stream is the first part of the type, so `gamma.*` routes to no stream. */
const streams: readonly StreamSpec[] = [
  { name: 'alpha', shards: 4 },
  { name: 'beta', shards: 2 },
];
const route: StreamRouter = (event) => event.type.slice(0, event.type.indexOf('.'));
const shardCount = (stream: string): number => streams.find((s) => s.name === stream)?.shards ?? 0;

let serial = 0;
function event(stream: string, subject: string, data: Record<string, unknown> = {}, id = `e${++serial}`): CloudEvent {
  return { specversion: '1.0', id, source: 'contract', type: `${stream}.happened`, time: '2024-01-01T00:00:00.000Z', subject, data: { subject, ...data } };
}

/** Whether `f` reflects the record a receipt names. */
function coversReceipt(f: Frontier, receipt: Receipt): boolean {
  return frontierCovers(f, { [positionKey(receipt.stream, receipt.shard)]: receipt.seq });
}

async function readAll(ledger: Ledger, stream: string, shard: number, pageSize = 1000): Promise<LedgerRecord[]> {
  const all: LedgerRecord[] = [];
  for (;;) {
    const page = await ledger.read(stream, shard, all.length === 0 ? null : all[all.length - 1]!.seq, pageSize);
    all.push(...page);
    if (page.length < pageSize) return all;
  }
}

async function readEverything(ledger: Ledger, pageSize?: number): Promise<LedgerRecord[]> {
  const all: LedgerRecord[] = [];
  for (const { name, shards } of ledger.streams) for (let shard = 0; shard < shards; shard++) all.push(...(await readAll(ledger, name, shard, pageSize)));
  return all;
}

async function rejection(promise: Promise<unknown>): Promise<FoldlineError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FoldlineError);
  return error as FoldlineError;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await Promise.race([promise, settle(ms)]);
  return settled;
}

/**
 * The behaviour every Ledger adapter must show (memory and embedded so far).
 * Sequence numbers are only compared, never assumed contiguous. Durable adapters
 * (`durable: true`) give `reopen` and must keep records, identities and heads across it.
 */
export function ledgerContract(name: string, makeLedger: LedgerFactory, options: { durable?: boolean } = {}): void {
  describe(`Ledger contract: ${name}`, () => {
    interface Opened {
      ledger: Ledger;
      all: Ledger[];
      reopen: (() => Promise<Ledger>) | undefined;
      cleanup: () => Promise<void>;
    }
    const live: Opened[] = [];

    async function openLedger(): Promise<Opened> {
      const fixture = await makeLedger(streams, route);
      const opened: Opened = { ledger: fixture.ledger, all: [fixture.ledger], reopen: undefined, cleanup: fixture.cleanup };
      if (fixture.reopen) {
        const reopenStorage = fixture.reopen;
        opened.reopen = async () => {
          await opened.ledger.close();
          opened.ledger = await reopenStorage();
          opened.all.push(opened.ledger);
          return opened.ledger;
        };
      }
      live.push(opened);
      return opened;
    }

    async function dispose(opened: Opened): Promise<void> {
      for (const ledger of opened.all) await ledger.close();
      await opened.cleanup();
    }

    afterEach(async () => {
      for (const opened of live.splice(0)) await dispose(opened);
    });

    it('gives receipts in input order, shards by the subject and seqs that grow per shard', async () => {
      const { ledger } = await openLedger();
      const lastSeq = new Map<string, string>();
      for (let round = 0; round < 2; round++) {
        const events = Array.from({ length: 40 }, (_, i) => event(i % 3 === 0 ? 'beta' : 'alpha', `k${(i * 7) % 11}`));
        const { receipts } = await ledger.append(events);
        expect(receipts).toHaveLength(events.length);
        receipts.forEach((receipt, i) => {
          const sent = events[i]!;
          expect(receipt).toMatchObject({ id: sent.id, stream: route(sent), shard: shardOf(sent.subject, shardCount(route(sent))), duplicate: false });
          const position = positionKey(receipt.stream, receipt.shard);
          const previous = lastSeq.get(position);
          if (previous !== undefined) expect(compareSeq(receipt.seq, previous)).toBeGreaterThan(0);
          lastSeq.set(position, receipt.seq);
        });
      }
    });

    it('reads the records after a position, up to a limit, in seq order', async () => {
      const { ledger } = await openLedger();
      const events = Array.from({ length: 25 }, (_, i) => event('alpha', 'one-key', { n: i }));
      const { receipts } = await ledger.append(events);
      const { stream, shard } = receipts[0]!;
      const all = await ledger.read(stream, shard, null);
      expect(all.map((r) => r.seq)).toEqual(receipts.map((r) => r.seq));
      expect(all.map((r) => canonicalJson(r.event))).toEqual(events.map((e) => canonicalJson(e)));
      expect(all.every((r) => r.stream === stream && r.shard === shard)).toBe(true);

      const page = await ledger.read(stream, shard, receipts[9]!.seq, 5);
      expect(page.map((r) => r.event.id)).toEqual(events.slice(10, 15).map((e) => e.id));
      expect(await ledger.read(stream, shard, receipts[24]!.seq)).toEqual([]);
      expect(await ledger.read(stream, shard, receipts[20]!.seq, 100)).toHaveLength(4);
      const otherShard = (shard + 1) % shardCount(stream);
      expect(await ledger.read(stream, otherShard, null)).toEqual([]);
    });

    it('refuses to read a shard that does not exist', async () => {
      const { ledger } = await openLedger();
      expect((await rejection(ledger.read('alpha', 4, null))).code).toBe('unknown_shard');
      expect((await rejection(ledger.read('gamma', 0, null))).code).toBe('unknown_shard');
    });

    it('answers a repeat in another batch with the first receipt, marked duplicate', async () => {
      const { ledger } = await openLedger();
      const a = event('alpha', 'ka');
      const first = await ledger.append([a, event('beta', 'kb')]);
      const again = await ledger.append([event('alpha', 'kc'), structuredClone(a)]);
      expect(again.receipts[1]).toEqual({ ...first.receipts[0]!, duplicate: true });
      expect(again.receipts[0]!.duplicate).toBe(false);
      const records = await readEverything(ledger);
      expect(records.filter((r) => r.event.id === a.id)).toHaveLength(1);
      expect(records).toHaveLength(3);
    });

    it('answers a repeat within one batch with the receipt of its first occurrence', async () => {
      const { ledger } = await openLedger();
      const d = event('beta', 'kd');
      const { receipts } = await ledger.append([d, structuredClone(d), event('alpha', 'ke'), structuredClone(d)]);
      expect(receipts[1]).toEqual({ ...receipts[0]!, duplicate: true });
      expect(receipts[3]).toEqual({ ...receipts[0]!, duplicate: true });
      expect(receipts[0]!.duplicate).toBe(false);
      expect(await readEverything(ledger)).toHaveLength(2);
    });

    it('dedups concurrent appends of the same event', async () => {
      const { ledger } = await openLedger();
      const x = event('alpha', 'kx');
      const y = event('alpha', 'ky');
      const [one, two, three] = await Promise.all([ledger.append([x]), ledger.append([structuredClone(x), y]), ledger.append([structuredClone(y)])]);
      const receipts = [one.receipts[0]!, two.receipts[0]!];
      expect(receipts.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(receipts[0]!.seq).toBe(receipts[1]!.seq);
      expect(three.receipts[0]).toEqual({ ...two.receipts[1]!, duplicate: true });
      const records = await readEverything(ledger);
      expect(records.map((r) => r.event.id).sort()).toEqual([x.id, y.id].sort());
    });

    it('gives every concurrent append its own durable receipts', async () => {
      const { ledger } = await openLedger();
      const events = Array.from({ length: 60 }, (_, i) => event(i % 2 ? 'alpha' : 'beta', `k${i % 9}`));
      const results = await Promise.all(events.map((e) => ledger.append([e])));
      const seen = new Set(results.map(({ receipts: [r] }) => `${r!.stream}/${r!.shard}/${r!.seq}`));
      expect(seen.size).toBe(events.length);
      for (const { receipts, head } of results) expect(coversReceipt(head, receipts[0]!)).toBe(true);
      const byId = new Map((await readEverything(ledger)).map((r) => [r.event.id, r]));
      results.forEach(({ receipts: [r] }, i) => {
        expect(byId.get(events[i]!.id)).toMatchObject({ stream: r!.stream, shard: r!.shard, seq: r!.seq });
      });
    });

    it('refuses an id reused with other content and appends nothing of that batch', async () => {
      const { ledger } = await openLedger();
      const a = event('alpha', 'ka', { v: 1 });
      await ledger.append([a]);
      const b = event('beta', 'kb');
      const error = await rejection(ledger.append([b, { ...a, data: { ...a.data, v: 2 } }]));
      expect(error.code).toBe('conflict');
      expect(error.index).toBe(1);
      const c = event('alpha', 'kc', { v: 1 });
      expect((await rejection(ledger.append([c, { ...c, data: { ...c.data, v: 2 } }]))).code).toBe('conflict');
      expect((await readEverything(ledger)).map((r) => r.event.id)).toEqual([a.id]);
      const later = await ledger.append([b, c]);
      expect(later.receipts.map((r) => r.duplicate)).toEqual([false, false]);
    });

    it('refuses an event of an unknown stream and appends nothing of that batch', async () => {
      const { ledger } = await openLedger();
      const error = await rejection(ledger.append([event('alpha', 'k1'), event('gamma', 'k2')]));
      expect(error.code).toBe('unknown_stream');
      expect(error.index).toBe(1);
      expect(await readEverything(ledger)).toEqual([]);
      expect(await ledger.head()).toEqual({});
    });

    it('keeps the head at the last seq of every shard that has records', async () => {
      const { ledger } = await openLedger();
      expect(await ledger.head()).toEqual({});
      const events = Array.from({ length: 30 }, (_, i) => event(i % 2 ? 'alpha' : 'beta', `k${i}`));
      const { receipts, head } = await ledger.append(events);
      const expected: Record<string, string> = {};
      for (const r of receipts) expected[positionKey(r.stream, r.shard)] = r.seq;
      expect({ ...(await ledger.head()) }).toEqual(expected);
      expect({ ...head }).toEqual(expected);
      await ledger.append([structuredClone(events[0]!)]);
      expect({ ...(await ledger.head()) }).toEqual(expected);
    });

    it('gives heads whose tokens cover the append and every earlier one', async () => {
      const { ledger } = await openLedger();
      const first = await ledger.append([event('alpha', 'k1'), event('beta', 'k2')]);
      const second = await ledger.append([event('alpha', 'k3')]);
      const token = encodeToken(second.head);
      const decoded = decodeToken(token);
      expect({ ...decoded }).toEqual({ ...second.head });
      for (const receipt of [...first.receipts, ...second.receipts]) expect(coversReceipt(decoded, receipt)).toBe(true);
      const merged = decodeToken(mergeTokens(encodeToken(first.head), token));
      for (const receipt of [...first.receipts, ...second.receipts]) expect(coversReceipt(merged, receipt)).toBe(true);
    });

    it('wakes a waiter on an append past its frontier in one of its streams, and on abort', async () => {
      const { ledger } = await openLedger();
      const e = event('alpha', 'wake');
      const shard = shardOf(e.subject, 4);
      const controller = new AbortController();
      const waiting = ledger.waitForAppend(['alpha'], {}, controller.signal);
      expect(await settlesWithin(waiting, 30)).toBe(false);
      // An append to another stream does not wake it.
      const other = await ledger.append([event('beta', 'elsewhere')]);
      expect(await settlesWithin(waiting, 30)).toBe(false);
      const { receipts } = await ledger.append([e]);
      expect(await settlesWithin(waiting, 2000)).toBe(true);
      // A record after `after` is already there: no wait.
      expect(await settlesWithin(ledger.waitForAppend(['alpha', 'beta'], {}, controller.signal), 2000)).toBe(true);
      const covered = { [positionKey('alpha', shard)]: receipts[0]!.seq, [positionKey('beta', other.receipts[0]!.shard)]: other.receipts[0]!.seq };
      // Appends its frontier covers do not wake it; one past it on any shard does.
      const caughtUp = ledger.waitForAppend(['alpha', 'beta'], covered, controller.signal);
      expect(await settlesWithin(caughtUp, 30)).toBe(false);
      await ledger.append([event('beta', 'next')]);
      expect(await settlesWithin(caughtUp, 2000)).toBe(true);

      const aborter = new AbortController();
      const idle = ledger.waitForAppend(['alpha'], { [positionKey('alpha', shard)]: receipts[0]!.seq }, aborter.signal);
      expect(await settlesWithin(idle, 30)).toBe(false);
      aborter.abort();
      expect(await settlesWithin(idle, 2000)).toBe(true);
    });

    it('orders seqs as integers past one digit and reads nothing after a huge seq', async () => {
      const { ledger } = await openLedger();
      const events = Array.from({ length: 12 }, (_, i) => event('beta', 'same', { n: i }));
      const { receipts } = await ledger.append(events);
      for (let i = 1; i < receipts.length; i++) expect(compareSeq(receipts[i]!.seq, receipts[i - 1]!.seq)).toBe(1);
      const { stream, shard } = receipts[0]!;
      const rest = await ledger.read(stream, shard, receipts[8]!.seq);
      expect(rest.map((r) => r.event.id)).toEqual(events.slice(9).map((e) => e.id));
      expect((await ledger.head())[positionKey(stream, shard)]).toBe(receipts[11]!.seq);
      expect(await ledger.read(stream, shard, '9'.repeat(40))).toEqual([]);
      const controller = new AbortController();
      const waiting = ledger.waitForAppend([stream], { [positionKey(stream, shard)]: '9'.repeat(40) }, controller.signal);
      expect(await settlesWithin(waiting, 30)).toBe(false);
      controller.abort();
      await waiting;
    });

    it('keeps hostile keys and unusual strings exactly', async () => {
      const { ledger } = await openLedger();
      const data = JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","lone":"\\ud800x","pair":"\\ud83d\\ude00","n":-1.5e-7}') as Record<string, unknown>;
      const sent = event('alpha', 'hostile', data);
      const { receipts } = await ledger.append([sent, event('alpha', 'hostile', { plain: 1 })]);
      const [record] = await ledger.read('alpha', receipts[0]!.shard, null, 1);
      expect(canonicalJson(record!.event)).toBe(canonicalJson(sent));
      expect(Object.prototype.hasOwnProperty.call(record!.event.data, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('stores events sent with their JSON texts as it stores them without, hostile keys included', async () => {
      const { ledger } = await openLedger();
      const hostile = event('alpha', 'texted', JSON.parse('{"__proto__":{"polluted":true},"lone":"\\ud800x","pair":"\\ud83d\\ude00"}') as Record<string, unknown>);
      const plain = event('beta', 'texted', { n: 1 });
      const sent = [hostile, plain, structuredClone(hostile)];
      const { receipts } = await ledger.append(sent, sent.map((e) => Buffer.from(` ${JSON.stringify(e, null, '\t')}\n`)));
      expect(receipts[2]).toEqual({ ...receipts[0]!, duplicate: true });
      const again = await ledger.append([structuredClone(plain)], [Buffer.from(JSON.stringify(plain))]);
      expect(again.receipts[0]).toEqual({ ...receipts[1]!, duplicate: true });
      const records = await readEverything(ledger);
      expect(records.map((r) => canonicalJson(r.event)).sort()).toEqual([hostile, plain].map(canonicalJson).sort());
      expect(Object.prototype.hasOwnProperty.call(records.find((r) => r.event.id === hostile.id)!.event.data, '__proto__')).toBe(true);
    });

    it('refuses appends once closed', async () => {
      const opened = await openLedger();
      await opened.ledger.close();
      expect((await rejection(opened.ledger.append([event('alpha', 'late')]))).code).toBe('closed');
    });

    it('reads back each distinct event exactly once, in append order per shard (property)', async () => {
      const pool = fc.array(fc.tuple(fc.constantFrom('alpha', 'beta'), fc.nat(7)), { minLength: 20, maxLength: 20 });
      const batches = fc.array(fc.array(fc.nat(19), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 });
      // Each batch sent with its JSON texts (laid out otherwise than JSON.stringify would) or without.
      const withTexts = fc.array(fc.boolean(), { minLength: 6, maxLength: 6 });
      await fc.assert(
        fc.asyncProperty(pool, batches, withTexts, fc.integer({ min: 1, max: 7 }), async (places, picks, texted, pageSize) => {
          const opened = await openLedger();
          live.splice(live.indexOf(opened), 1);
          try {
            const runId = `p${++serial}-`;
            const pooled = places.map(([stream, key], i) => event(stream, `key${key}`, { i }, `${runId}${i}`));
            const expected = new Map<string, string[]>();
            const receiptOf = new Map<string, Receipt>();
            for (const [b, batch] of picks.entries()) {
              const events = batch.map((i) => structuredClone(pooled[i]!));
              const texts = texted[b] ? events.map((e) => Buffer.from(JSON.stringify(e, null, 1))) : undefined;
              const { receipts } = await opened.ledger.append(events, texts);
              receipts.forEach((receipt, j) => {
                const id = events[j]!.id;
                const first = receiptOf.get(id);
                if (first) {
                  expect(receipt).toEqual({ ...first, duplicate: true });
                  return;
                }
                expect(receipt.duplicate).toBe(false);
                receiptOf.set(id, receipt);
                const position = positionKey(receipt.stream, receipt.shard);
                expect(receipt.shard).toBe(shardOf(events[j]!.subject, shardCount(receipt.stream)));
                expected.set(position, [...(expected.get(position) ?? []), id]);
              });
            }
            const records = await readEverything(opened.ledger, pageSize);
            const actual = new Map<string, string[]>();
            for (const r of records) {
              const position = positionKey(r.stream, r.shard);
              actual.set(position, [...(actual.get(position) ?? []), r.event.id]);
              expect(receiptOf.get(r.event.id)).toMatchObject({ stream: r.stream, shard: r.shard, seq: r.seq });
              expect(canonicalJson(r.event)).toBe(canonicalJson(pooled[Number(r.event.id.slice(runId.length))]));
            }
            expect(actual).toEqual(expected);
          } finally {
            await dispose(opened);
          }
        }),
        { numRuns: 60 },
      );
    });

    if (options.durable) {
    it('keeps records, identities and heads across a reopen', async () => {
      const opened = await openLedger();
      expect(opened.reopen).toBeDefined();
      const events = Array.from({ length: 50 }, (_, i) => event(i % 4 ? 'alpha' : 'beta', `k${i % 13}`, { n: i }));
      const { receipts, head } = await opened.ledger.append(events);
      const before = await readEverything(opened.ledger);
      const reopened = await opened.reopen!();
      expect({ ...(await reopened.head()) }).toEqual({ ...head });
      const after = await readEverything(reopened);
      expect(after.map((r) => canonicalJson(r))).toEqual(before.map((r) => canonicalJson(r)));

      const again = await reopened.append([structuredClone(events[7]!), event('alpha', 'k1')]);
      expect(again.receipts[0]).toEqual({ ...receipts[7]!, duplicate: true });
      const fresh = again.receipts[1]!;
      const previous = head[positionKey(fresh.stream, fresh.shard)];
      if (previous !== undefined) expect(compareSeq(fresh.seq, previous)).toBeGreaterThan(0);
      expect((await rejection(reopened.append([{ ...events[3]!, data: { changed: true } }]))).code).toBe('conflict');
    });
    }
  });
}
