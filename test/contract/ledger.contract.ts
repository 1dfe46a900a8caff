import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FoldlineError } from '../../base/errors.js';
import { canonicalJson, compareSeq, frontierCovers, positionKey, type Frontier } from '../../crdt/index.js';
import type { DurableBlock, DurablePublisher, HeadFollower, LedgerCapabilities } from '../../ledger/backend.js';
import { shardOf } from '../../ledger/shards.js';
import { decodeToken, encodeToken, mergeTokens } from '../../ledger/token.js';
import type { CloudEvent, Ledger, LedgerRecord, Receipt, StreamRouter, StreamSpec } from '../../ledger/types.js';

/*
 * The behaviour every Ledger adapter must show, as a function of its setup and of the
 * capabilities it claims (LedgerCapabilities), after automerge-repo's
 * runStorageAdapterTests: an adapter that cannot give one capability still runs every other
 * test. Sequence numbers are only compared, never assumed contiguous.
 *
 * What each flag gates:
 * - identityDedup. Claimed: a repeated (source, id) gets the receipt of its first
 *   occurrence marked `duplicate` (within a batch, across batches, concurrently, sent with
 *   its JSON text) and leaves the head where it was; an id reused with other content is a
 *   `conflict` that appends nothing of its batch. Absent, the weaker promise of an
 *   at-least-once source instead: every copy appended lands at a new position with
 *   `duplicate: false` and wakes waiters, and an id reused with other content is one more
 *   event. The property reads back each distinct event once (claimed) or every appended
 *   copy once (absent).
 * - atomicBatch. Claimed: a read during a large one-shard append sees all of the batch or
 *   none of it, and of two concurrent appends that reuse an id with other content the
 *   refused one appends nothing (a refusal found while writing). Every adapter, whatever it
 *   claims, plans a batch before writing it: a refusal found while planning (an unknown
 *   stream; with identityDedup, a conflict with an acknowledged append or within the batch)
 *   appends nothing, and reads during an append see its records only grow.
 * - durable. The setup must give `reopen`; records and heads survive it (and identities,
 *   with identityDedup).
 * - readerFollowsWriter. Claimed: the setup must give `openReader`, whose reader sees
 *   appends only once `refresh` hands it the writer's head, and `refresh` wakes its
 *   waiters. Absent: a reader (the ledger itself where the setup opens none) sees appends,
 *   and its waiters wake, by itself.
 */

export interface LedgerFixture {
  ledger: Ledger;
  /** Opens the same storage again; required when `durable` is claimed. The suite closes the previous ledger first. */
  reopen?: () => Promise<Ledger>;
  /**
   * Opens a reader of `ledger` as another thread would (LedgerBackend.openReader); required
   * when `readerFollowsWriter` is claimed. Absent: the ledger is its own reader.
   */
  openReader?: () => Promise<Ledger & Partial<HeadFollower>>;
  /** Removes the storage; every ledger and reader of the fixture is closed by then. */
  cleanup: () => Promise<void>;
}

export type LedgerSetup = (streams: readonly StreamSpec[], route: StreamRouter) => Promise<LedgerFixture>;

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

/** `sent` with other content under the same (source, id). */
function altered(sent: CloudEvent, v: number): CloudEvent {
  return { ...sent, data: { ...sent.data, v } };
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

/** The batch the large-append tests send: one shard, so that its records are one run of seqs. */
const largeBatch = 500;

/**
 * The ids each read of the batch's shard showed while a batch of `largeBatch` events was
 * appended to it, read after read; the last read follows the acknowledgement.
 */
async function readsDuringLargeAppend(ledger: Ledger): Promise<{ sent: string[]; seen: string[][] }> {
  const shard = shardOf('large', shardCount('alpha'));
  const { receipts } = await ledger.append([event('alpha', 'large')]);
  const batch = Array.from({ length: largeBatch }, (_, i) => event('alpha', 'large', { i }));
  let acknowledged = false;
  const appending = ledger.append(batch).finally(() => (acknowledged = true));
  const seen: string[][] = [];
  for (;;) {
    const last = acknowledged;
    seen.push((await ledger.read('alpha', shard, receipts[0]!.seq, largeBatch + 1)).map((r) => r.event.id));
    if (last) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await appending;
  return { sent: batch.map((e) => e.id), seen };
}

export function ledgerContract(name: string, setup: LedgerSetup, capabilities: LedgerCapabilities): void {
  const claims = Object.entries(capabilities)
    .map(([flag, claimed]) => `${claimed ? '' : 'no '}${flag}`)
    .join(', ');
  describe(`Ledger contract: ${name} (${claims})`, () => {
    interface Opened {
      ledger: Ledger;
      /** Every ledger and reader opened, closed in this order when the test ends. */
      all: Ledger[];
      fixture: LedgerFixture;
    }
    const live: Opened[] = [];

    async function openLedger(): Promise<Opened> {
      const fixture = await setup(streams, route);
      const opened: Opened = { ledger: fixture.ledger, all: [fixture.ledger], fixture };
      live.push(opened);
      return opened;
    }

    /** Closes the ledger and opens its storage again. */
    async function reopen(opened: Opened): Promise<Ledger> {
      if (!opened.fixture.reopen) throw new Error(`${name} claims durable, but its setup gives no reopen`);
      await opened.ledger.close();
      opened.ledger = await opened.fixture.reopen();
      opened.all.push(opened.ledger);
      return opened.ledger;
    }

    async function openReader(opened: Opened): Promise<Ledger & Partial<HeadFollower>> {
      if (!opened.fixture.openReader) return opened.ledger;
      const reader = await opened.fixture.openReader();
      opened.all.push(reader);
      return reader;
    }

    async function dispose(opened: Opened): Promise<void> {
      for (const ledger of opened.all) await ledger.close();
      await opened.fixture.cleanup();
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

    it('refuses an event of an unknown stream and appends nothing of that batch', async () => {
      const { ledger } = await openLedger();
      const error = await rejection(ledger.append([event('alpha', 'k1'), event('gamma', 'k2')]));
      expect(error.code).toBe('unknown_stream');
      expect(error.index).toBe(1);
      expect(await readEverything(ledger)).toEqual([]);
      expect(await ledger.head()).toEqual({});
    });

    it('shows reads during an append a growing part of its batch, and all of it once acknowledged', async () => {
      const { ledger } = await openLedger();
      const { sent, seen } = await readsDuringLargeAppend(ledger);
      const batch = new Set(sent);
      let previous = new Set<string>();
      for (const ids of seen) {
        const now = new Set(ids);
        expect(now.size).toBe(ids.length);
        expect(ids.every((id) => batch.has(id))).toBe(true);
        expect([...previous].every((id) => now.has(id))).toBe(true);
        previous = now;
      }
      expect(seen[seen.length - 1]).toEqual(sent);
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
      // Past any ledger's seqs, Kinesis's 56 digits included.
      const huge = '9'.repeat(80);
      const { ledger } = await openLedger();
      const events = Array.from({ length: 12 }, (_, i) => event('beta', 'same', { n: i }));
      const { receipts } = await ledger.append(events);
      for (let i = 1; i < receipts.length; i++) expect(compareSeq(receipts[i]!.seq, receipts[i - 1]!.seq)).toBe(1);
      const { stream, shard } = receipts[0]!;
      const rest = await ledger.read(stream, shard, receipts[8]!.seq);
      expect(rest.map((r) => r.event.id)).toEqual(events.slice(9).map((e) => e.id));
      expect((await ledger.head())[positionKey(stream, shard)]).toBe(receipts[11]!.seq);
      expect(await ledger.read(stream, shard, huge)).toEqual([]);
      const controller = new AbortController();
      const waiting = ledger.waitForAppend([stream], { [positionKey(stream, shard)]: huge }, controller.signal);
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
      await ledger.append([hostile, plain], [hostile, plain].map((e) => Buffer.from(` ${JSON.stringify(e, null, '\t')}\n`)));
      const records = await readEverything(ledger);
      expect(records.map((r) => canonicalJson(r.event)).sort()).toEqual([hostile, plain].map(canonicalJson).sort());
      expect(Object.prototype.hasOwnProperty.call(records.find((r) => r.event.id === hostile.id)!.event.data, '__proto__')).toBe(true);
    });

    it('refuses appends once closed', async () => {
      const opened = await openLedger();
      await opened.ledger.close();
      expect((await rejection(opened.ledger.append([event('alpha', 'late')]))).code).toBe('closed');
    });

    const copies = capabilities.identityDedup ? 'each distinct event' : 'every appended copy';
    it(`reads back ${copies} exactly once, in append order per shard (property)`, async () => {
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
            /** The ids each shard should hold, in order. */
            const expected = new Map<string, string[]>();
            /** The id of the record at each `position@seq` a receipt named. */
            const landed = new Map<string, string>();
            const firstReceipt = new Map<string, Receipt>();
            for (const [b, batch] of picks.entries()) {
              const events = batch.map((i) => structuredClone(pooled[i]!));
              const texts = texted[b] ? events.map((e) => Buffer.from(JSON.stringify(e, null, 1))) : undefined;
              const { receipts } = await opened.ledger.append(events, texts);
              receipts.forEach((receipt, j) => {
                const id = events[j]!.id;
                const first = firstReceipt.get(id);
                if (capabilities.identityDedup && first) {
                  expect(receipt).toEqual({ ...first, duplicate: true });
                  return;
                }
                expect(receipt.duplicate).toBe(false);
                expect(receipt.shard).toBe(shardOf(events[j]!.subject, shardCount(receipt.stream)));
                firstReceipt.set(id, first ?? receipt);
                const position = positionKey(receipt.stream, receipt.shard);
                expect(landed.has(`${position}@${receipt.seq}`)).toBe(false);
                landed.set(`${position}@${receipt.seq}`, id);
                expected.set(position, [...(expected.get(position) ?? []), id]);
              });
            }
            const records = await readEverything(opened.ledger, pageSize);
            const actual = new Map<string, string[]>();
            for (const r of records) {
              const position = positionKey(r.stream, r.shard);
              actual.set(position, [...(actual.get(position) ?? []), r.event.id]);
              expect(landed.get(`${position}@${r.seq}`)).toBe(r.event.id);
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

    if (capabilities.identityDedup) {
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

      it('answers a repeat sent with or without its JSON text alike, hostile keys included', async () => {
        const { ledger } = await openLedger();
        const hostile = event('alpha', 'texted', JSON.parse('{"__proto__":{"polluted":true},"lone":"\\ud800x"}') as Record<string, unknown>);
        const sent = [hostile, structuredClone(hostile)];
        const { receipts } = await ledger.append(sent, sent.map((e) => Buffer.from(` ${JSON.stringify(e, null, '\t')}\n`)));
        expect(receipts[1]).toEqual({ ...receipts[0]!, duplicate: true });
        const withText = await ledger.append([structuredClone(hostile)], [Buffer.from(JSON.stringify(hostile))]);
        const without = await ledger.append([structuredClone(hostile)]);
        for (const again of [withText, without]) expect(again.receipts[0]).toEqual({ ...receipts[0]!, duplicate: true });
        expect(await readEverything(ledger)).toHaveLength(1);
      });

      it('leaves the head where it was on a repeat', async () => {
        const { ledger } = await openLedger();
        const events = Array.from({ length: 10 }, (_, i) => event(i % 2 ? 'alpha' : 'beta', `k${i}`));
        const { head } = await ledger.append(events);
        const again = await ledger.append([structuredClone(events[0]!), structuredClone(events[9]!)]);
        expect({ ...again.head }).toEqual({ ...head });
        expect({ ...(await ledger.head()) }).toEqual({ ...head });
      });

      it('refuses an id reused with other content and appends nothing of that batch', async () => {
        const { ledger } = await openLedger();
        const a = event('alpha', 'ka', { v: 1 });
        await ledger.append([a]);
        const b = event('beta', 'kb');
        const error = await rejection(ledger.append([b, altered(a, 2)]));
        expect(error.code).toBe('conflict');
        expect(error.index).toBe(1);
        const c = event('alpha', 'kc', { v: 1 });
        expect((await rejection(ledger.append([c, altered(c, 2)]))).code).toBe('conflict');
        expect((await readEverything(ledger)).map((r) => r.event.id)).toEqual([a.id]);
        const later = await ledger.append([b, c]);
        expect(later.receipts.map((r) => r.duplicate)).toEqual([false, false]);
      });
    } else {
      it('appends a repeat again at a new position, marked new: within a batch, across batches, concurrently', async () => {
        const { ledger } = await openLedger();
        const a = event('alpha', 'ka');
        const first = await ledger.append([a, structuredClone(a), event('beta', 'kb')]);
        const second = await ledger.append([structuredClone(a)], [Buffer.from(JSON.stringify(a))]);
        const concurrent = await Promise.all([ledger.append([structuredClone(a)]), ledger.append([structuredClone(a)])]);
        const inOrder = [first.receipts[0]!, first.receipts[1]!, second.receipts[0]!];
        const receipts = [...inOrder, ...concurrent.map(({ receipts: [r] }) => r!)];
        for (const receipt of receipts) expect(receipt).toMatchObject({ id: a.id, stream: 'alpha', shard: inOrder[0]!.shard, duplicate: false });
        for (let i = 1; i < inOrder.length; i++) expect(compareSeq(inOrder[i]!.seq, inOrder[i - 1]!.seq)).toBe(1);
        for (const { seq } of receipts.slice(3)) expect(compareSeq(seq, second.receipts[0]!.seq)).toBe(1);
        const records = await readAll(ledger, 'alpha', inOrder[0]!.shard);
        expect(records.map((r) => r.seq)).toEqual(receipts.map((r) => r.seq).sort(compareSeq));
        for (const record of records) expect(canonicalJson(record.event)).toBe(canonicalJson(a));
        expect(compareSeq(second.head[positionKey('alpha', inOrder[0]!.shard)]!, first.head[positionKey('alpha', inOrder[0]!.shard)]!)).toBe(1);
        expect(coversReceipt(second.head, second.receipts[0]!)).toBe(true);
      });

      it('takes an id reused with other content as one more event, within a batch and across batches', async () => {
        const { ledger } = await openLedger();
        const a = event('alpha', 'ka', { v: 1 });
        await ledger.append([a]);
        const { receipts } = await ledger.append([altered(a, 2), altered(a, 3)]);
        expect(receipts.map((r) => r.duplicate)).toEqual([false, false]);
        const records = await readAll(ledger, 'alpha', receipts[0]!.shard);
        expect(records.map((r) => [r.event.id, r.event.data['v']])).toEqual([
          [a.id, 1],
          [a.id, 2],
          [a.id, 3],
        ]);
      });

      it('wakes a waiter when a repeat lands past its frontier', async () => {
        const { ledger } = await openLedger();
        const a = event('alpha', 'ka');
        const { head } = await ledger.append([a]);
        const controller = new AbortController();
        const waiting = ledger.waitForAppend(['alpha'], head, controller.signal);
        expect(await settlesWithin(waiting, 30)).toBe(false);
        await ledger.append([structuredClone(a)]);
        expect(await settlesWithin(waiting, 2000)).toBe(true);
      });
    }

    if (capabilities.atomicBatch) {
      it(`shows reads during a ${largeBatch}-event append all of its batch or none of it`, async () => {
        const { ledger } = await openLedger();
        const { sent, seen } = await readsDuringLargeAppend(ledger);
        for (const ids of seen) expect(ids).toEqual(ids.length === 0 ? [] : sent);
      });

      if (capabilities.identityDedup) {
        it('appends nothing of the refused one of two concurrent appends that reuse an id with other content', async () => {
          const { ledger } = await openLedger();
          const x = event('alpha', 'kx', { v: 1 });
          const batches = [
            [event('beta', 'ka'), x],
            [event('beta', 'kb'), altered(x, 2)],
          ];
          const results = await Promise.allSettled(batches.map((batch) => ledger.append(batch)));
          const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
          expect(refused).toHaveLength(1);
          expect(refused[0]).toMatchObject({ code: 'conflict' });
          const landed = batches[results.findIndex((result) => result.status === 'fulfilled')]!;
          const records = await readEverything(ledger);
          expect(records.map((r) => canonicalJson(r.event)).sort()).toEqual(landed.map(canonicalJson).sort());
        });
      }
    }

    if (capabilities.durable) {
      it('keeps records and heads across a reopen, and appends after them', async () => {
        const opened = await openLedger();
        const events = Array.from({ length: 50 }, (_, i) => event(i % 4 ? 'alpha' : 'beta', `k${i % 13}`, { n: i }));
        const { head } = await opened.ledger.append(events);
        const before = await readEverything(opened.ledger);
        const reopened = await reopen(opened);
        expect({ ...(await reopened.head()) }).toEqual({ ...head });
        const after = await readEverything(reopened);
        expect(after.map((r) => canonicalJson(r))).toEqual(before.map((r) => canonicalJson(r)));
        const fresh = (await reopened.append([event('alpha', 'k1')])).receipts[0]!;
        expect(compareSeq(fresh.seq, head[positionKey(fresh.stream, fresh.shard)]!)).toBeGreaterThan(0);
      });

      if (capabilities.identityDedup) {
        it('keeps identities across a reopen', async () => {
          const opened = await openLedger();
          const events = Array.from({ length: 20 }, (_, i) => event(i % 4 ? 'alpha' : 'beta', `k${i % 13}`, { n: i }));
          const { receipts } = await opened.ledger.append(events);
          const reopened = await reopen(opened);
          const again = await reopened.append([structuredClone(events[7]!)]);
          expect(again.receipts[0]).toEqual({ ...receipts[7]!, duplicate: true });
          expect((await rejection(reopened.append([altered(events[3]!, 2)]))).code).toBe('conflict');
        });
      }
    }

    if (capabilities.readerFollowsWriter) {
      it('shows a reader appends only once refresh hands it the head, and wakes its waiters then', async () => {
        const opened = await openLedger();
        if (!opened.fixture.openReader) throw new Error(`${name} claims readerFollowsWriter, but its setup gives no openReader`);
        const reader = await openReader(opened);
        if (!reader.refresh) throw new Error(`${name} claims readerFollowsWriter, but its reader has no refresh`);
        const controller = new AbortController();
        const waiting = reader.waitForAppend(['alpha'], {}, controller.signal);
        const first = await opened.ledger.append([event('alpha', 'followed')]);
        const { shard } = first.receipts[0]!;
        // Long enough for a reader's storage snapshot to move on: the head alone decides what it reads.
        expect(await settlesWithin(waiting, 30)).toBe(false);
        expect(await reader.read('alpha', shard, null)).toEqual([]);
        expect(await reader.head()).toEqual({});
        reader.refresh(first.head);
        expect(await settlesWithin(waiting, 2000)).toBe(true);
        const second = await opened.ledger.append([event('alpha', 'followed'), event('alpha', 'followed')]);
        await settle(30);
        expect((await reader.read('alpha', shard, null)).map((r) => r.seq)).toEqual([first.receipts[0]!.seq]);
        reader.refresh(second.head);
        expect((await reader.read('alpha', shard, null)).map((r) => r.seq)).toEqual([first, second].flatMap(({ receipts }) => receipts.map((r) => r.seq)));
        expect({ ...(await reader.head()) }).toEqual({ ...second.head });
      });

      it('tells of each commit with its head and the blocks it wrote, which a reader reads as it would have read them back', async () => {
        const opened = await openLedger();
        const writer = opened.ledger as Ledger & Partial<DurablePublisher>;
        if (!writer.onDurable) throw new Error(`${name} claims readerFollowsWriter, but its ledger has no onDurable`);
        const reader = await openReader(opened);
        const told: Array<{ head: Frontier; blocks: DurableBlock[] }> = [];
        const unsubscribe = writer.onDurable((head, blocks) => told.push({ head: { ...head }, blocks: [...blocks] }));
        const first = await writer.append([event('alpha', 'told-1'), event('beta', 'told-2'), event('alpha', 'told-1')]);
        const second = await writer.append([event('alpha', 'told-3')]);
        unsubscribe();
        await writer.append([event('alpha', 'untold')]);
        expect(told.map(({ head }) => head)).toEqual([{ ...first.head }, { ...second.head }]);
        expect(told.map(({ blocks }) => blocks.reduce((records, block) => records + block.count, 0))).toEqual([3, 1]);
        for (const { head, blocks } of told) reader.refresh!(head, blocks);
        const untold = await readEverything(writer);
        const toldSeqs = new Set([first, second].flatMap(({ receipts }) => receipts.map((r) => `${r.stream}/${r.shard}/${r.seq}`)));
        expect(await readEverything(reader)).toEqual(untold.filter((r) => toldSeqs.has(`${r.stream}/${r.shard}/${r.seq}`)));
      });
    } else {
      it('shows a reader appends by itself, waking its waiters', async () => {
        const opened = await openLedger();
        const reader = await openReader(opened);
        const controller = new AbortController();
        const waiting = reader.waitForAppend(['alpha'], {}, controller.signal);
        expect(await settlesWithin(waiting, 30)).toBe(false);
        const { receipts } = await opened.ledger.append([event('alpha', 'unfollowed')]);
        expect(await settlesWithin(waiting, 2000)).toBe(true);
        expect((await reader.read('alpha', receipts[0]!.shard, null)).map((r) => r.seq)).toEqual([receipts[0]!.seq]);
        expect(coversReceipt(await reader.head(), receipts[0]!)).toBe(true);
      });
    }
  });
}
