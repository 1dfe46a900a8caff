import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { canonicalJson, counterAdd, counterValue, dict, frontier, lwwWrite, parseTime, positionKey, type Frontier } from '../crdt/index.js';
import type { CloudEvent, Ledger } from '../ledger/types.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime, type FoldedBatchWithRecords } from '../projections/runtime.js';
import type { StateStore } from '../projections/types.js';
import {
  FaultyStore,
  InjectedFault,
  atLeastOnce,
  dump,
  newLedger,
  projections,
  tally,
  tags,
  testEvent,
  type FaultMode,
  type Tally,
} from './support/projectionFixtures.js';

const consumer = 'tests';
const subjects = ['a', 'b', 'c', '__proto__', 'constructor'];

const eventData = fc.record({
  stream: fc.constantFrom('alpha' as const, 'beta' as const),
  subject: fc.constantFrom(...subjects),
  delta: fc.integer({ min: -5, max: 5 }),
  label: fc.constantFrom('x', 'y', 'z'),
  tag: fc.constantFrom('red', 'blue', '__proto__'),
  ms: fc.integer({ min: 0, max: 5 }),
});

function eventsArb(options: { poison: boolean; maxLength: number }): fc.Arbitrary<CloudEvent[]> {
  const flags = options.poison
    ? fc.record({ poison: fc.integer({ min: 0, max: 9 }).map((n) => n === 0), badKeys: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) })
    : fc.constant({ poison: false, badKeys: false });
  return fc.array(fc.tuple(eventData, flags), { maxLength: options.maxLength }).map((list) =>
    list.map(([e, f], i) => testEvent(`e${i}`, e.stream, e.subject, { delta: e.delta, label: e.label, tag: e.tag, ...(f.poison ? { poison: true } : {}), ...(f.badKeys ? { badKeys: true } : {}) }, e.ms)),
  );
}

/** How batches share commits: each its own, or windows closed by size (at most 2 or 3 entities) or only at the end of a run. */
const commitWindows = fc.constantFrom({ commitIntervalMs: 0 }, { commitIntervalMs: 60_000, commitEntities: 2 }, { commitIntervalMs: 60_000, commitEntities: 3 }, { commitIntervalMs: 60_000 });
type CommitWindows = { commitIntervalMs: number; commitEntities?: number };

function runtime(ledger: Ledger, store: StateStore, batchSize: number, idWindow?: number, windows: CommitWindows = { commitIntervalMs: 0 }): ProjectionRuntime {
  return new ProjectionRuntime({ consumer, ledger, store, projections: [...projections], batchSize, ...(idWindow === undefined ? {} : { idWindow }), cacheSize: 4, ...windows });
}

/** A frontier part way to `head`: each position cut at the given fraction. */
function partOf(head: Frontier, cut: number): Frontier {
  const part = frontier();
  for (const position of Object.keys(head)) part[position] = String(Math.floor(Number(head[position]) * cut));
  return part;
}

async function folded(ledger: Ledger, store: StateStore, options: { withFrontiers?: boolean } = {}): Promise<string> {
  await runtime(ledger, store, 1000).catchUp();
  return dump(store, consumer, options);
}

const fault = fc.record({
  mode: fc.constantFrom<'between' | FaultMode>('between', 'before', 'after', 'partial'),
  commitsBefore: fc.nat({ max: 4 }),
  cut: fc.double({ min: 0, max: 1, noNaN: true }),
  /** Go on with the runtime that failed instead of a fresh one. */
  reuse: fc.boolean(),
  chunk: fc.nat(),
});

const crashScenario = fc.record({
  events: eventsArb({ poison: true, maxLength: 24 }),
  chunks: fc.integer({ min: 1, max: 3 }),
  faults: fc.array(fault, { maxLength: 4 }),
  batchSize: fc.integer({ min: 1, max: 4 }),
  windows: commitWindows,
});

/**
 * Appends the events in chunks and, after each, runs runtimes that crash at the chosen
 * points, finally one that catches up undisturbed; returns the stored result.
 */
type CrashScenario = typeof crashScenario extends fc.Arbitrary<infer T> ? T : never;

async function foldWithCrashes(scenario: CrashScenario, store: StateStore): Promise<string> {
  const { events, chunks, faults, batchSize, windows } = scenario;
  const ledger = newLedger();
  const faulty = new FaultyStore(store);
  let current = runtime(ledger, faulty, batchSize, undefined, windows);
  const size = Math.ceil(events.length / chunks);
  for (let chunk = 0; chunk < chunks; chunk++) {
    await ledger.append(events.slice(chunk * size, (chunk + 1) * size));
    for (const f of faults.filter((f) => f.chunk % chunks === chunk)) {
      if (!f.reuse) current = runtime(ledger, faulty, batchSize, undefined, windows);
      if (f.mode === 'between') {
        await current.runUntil(partOf(await ledger.head(), f.cut));
        continue;
      }
      faulty.arm(f.mode, f.commitsBefore);
      await current.catchUp().catch((error: unknown) => {
        if (!(error instanceof InjectedFault)) throw error;
      });
      faulty.disarm();
    }
  }
  await runtime(ledger, faulty, batchSize, undefined, windows).catchUp();
  return dump(store, consumer);
}

describe('ProjectionRuntime properties', () => {
  it('crashing between batches or inside a commit, then restarting, stores what one uninterrupted fold does (memory store)', async () => {
    await fc.assert(
      fc.asyncProperty(crashScenario, async (scenario) => {
        const ledger = newLedger();
        await ledger.append(scenario.events);
        const expected = await folded(ledger, new MemoryStore());
        expect(await foldWithCrashes(scenario, new MemoryStore())).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('crashing between batches or inside a commit, then restarting, stores what one uninterrupted fold does (embedded store)', async () => {
    await fc.assert(
      fc.asyncProperty(crashScenario, async (scenario) => {
        const ledger = newLedger();
        await ledger.append(scenario.events);
        const expected = await folded(ledger, new MemoryStore());
        const path = await mkdtemp(join(tmpdir(), 'foldline-runtime-'));
        const store = new EmbeddedStore({ path });
        try {
          expect(await foldWithCrashes(scenario, store)).toBe(expected);
        } finally {
          await store.close();
          await rm(path, { recursive: true, force: true });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('folds an event re-delivered at new positions once, across restarts', async () => {
    const scenario = fc.record({
      events: eventsArb({ poison: false, maxLength: 20 }),
      copies: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })), { maxLength: 10 }),
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 50, maxLength: 50 }),
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      batchSize: fc.integer({ min: 1, max: 4 }),
      windows: commitWindows,
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, copies, order, cut, batchSize, windows }) => {
        const redelivered = events.length === 0 ? [] : copies.flatMap(([i, n]) => Array.from({ length: n }, (_, c) => ({ ...events[i % events.length]!, id: `${events[i % events.length]!.id}~${c + 1}` })));
        const all = [...events, ...redelivered]
          .map((event, i) => ({ event, rank: order[i % order.length]! + i * 1e-9 }))
          .sort((x, y) => x.rank - y.rank)
          .map(({ event }) => event);
        const inner = newLedger();
        await inner.append(all);
        const ledger = atLeastOnce(inner);
        const store = new MemoryStore();
        await runtime(ledger, store, batchSize, undefined, windows).runUntil(partOf(await ledger.head(), cut));
        await runtime(ledger, store, batchSize, undefined, windows).catchUp();

        const once = newLedger();
        await once.append(events);
        // Positions differ between the two ledgers, so compare states, not frontiers.
        expect(await dump(store, consumer, { withFrontiers: false })).toBe(await folded(once, new MemoryStore(), { withFrontiers: false }));
      }),
      { numRuns: 1000 },
    );
  });

  it('dead-letters events whose fold or keys throw, keeps the rest and the shard going', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb({ poison: true, maxLength: 24 }), fc.integer({ min: 1, max: 4 }), commitWindows, async (events, batchSize, windows) => {
        const ledger = newLedger();
        const { receipts } = await ledger.append(events);
        const store = new MemoryStore();
        await runtime(ledger, store, batchSize, undefined, windows).catchUp();

        // The model: fold each event straight into plain maps, leaving out what throws.
        const expectedTally = dict<Tally>();
        const expectedTags = dict<ReturnType<typeof tags.initial>>();
        const expectedLetters: string[] = [];
        events.forEach((event, i) => {
          const position = positionKey(receipts[i]!.stream, receipts[i]!.shard);
          const seq = receipts[i]!.seq;
          const data = event.data as { delta: number; label: string; tag: string; poison?: boolean; badKeys?: boolean };
          if (data.poison) expectedLetters.push(canonicalJson(['tally', event.subject, position, seq]));
          else {
            const state = (expectedTally[event.subject] ??= tally.initial(event.subject));
            counterAdd(state.count, position, data.delta);
            state.last = lwwWrite(state.last ?? undefined, data.label, { t: parseTime(event.time), id: event.id, src: event.source });
          }
          if (receipts[i]!.stream !== 'beta') return;
          if (data.badKeys) expectedLetters.push(canonicalJson(['tags', '', position, seq]));
          else
            for (const key of new Set(['*', data.tag])) {
              if (data.poison) expectedLetters.push(canonicalJson(['tags', key, position, seq]));
              else counterAdd((expectedTags[key] ??= tags.initial(key)), position, 1);
            }
        });

        const stored = JSON.parse(await dump(store, consumer, { withFrontiers: false })) as { entities: unknown; deadLetters: Array<{ projection: string; key: string; position: string; seq: string; reason: string }> };
        expect(canonicalJson(stored.entities)).toBe(canonicalJson({ tally: expectedTally, tags: expectedTags }));
        expect(stored.deadLetters.map((l) => canonicalJson([l.projection, l.key, l.position, l.seq])).sort()).toEqual(expectedLetters.sort());
        for (const letter of stored.deadLetters) expect(letter.reason).toMatch(/^(poisoned|no keys for) e\d+$/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ProjectionRuntime', () => {
  it('tails the ledger, tells listeners after each folded batch, and stops after the batch in progress', async () => {
    const ledger = newLedger();
    const store = new MemoryStore();
    const tailing = new ProjectionRuntime({ consumer, ledger, store, projections: [...projections] });
    const batches: FoldedBatchWithRecords[] = [];
    const unsubscribe = tailing.onFolded((batch) => batches.push(batch));
    tailing.start();
    const covered = (head: Frontier): Promise<void> =>
      new Promise((resolve) => {
        const off = tailing.onFolded(({ frontier: f }) => {
          if (Object.keys(head).every((p) => f[p] !== undefined && BigInt(f[p]!) >= BigInt(head[p]!))) {
            off();
            resolve();
          }
        });
      });
    const first = await ledger.append([testEvent('1', 'alpha', 'a', { delta: 2, label: 'x', tag: 't' }), testEvent('2', 'beta', 'a', { delta: 3, label: 'y', tag: 't' }, 5)]);
    await covered(first.head);
    const record = await tailing.get<Tally>('tally', 'a');
    expect(counterValue(record!.state.count)).toBe(5);
    expect(record!.state.last!.v).toBe('y');
    expect(new Set(batches.flatMap((c) => c.entities.map((e) => `${e.namespace}/${e.key}`)))).toEqual(new Set(['tags/*', 'tags/t', 'tally/a']));
    expect(tailing.frontier()).toEqual(expect.objectContaining(first.head));

    unsubscribe();
    await tailing.stop();
    await ledger.append([testEvent('3', 'alpha', 'a', { delta: 10, label: 'z', tag: 't' })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(counterValue((await store.get<Tally>('tally', 'a'))!.state.count)).toBe(5);
    const afterStop = batches.length;
    await tailing.catchUp();
    expect(counterValue((await tailing.get<Tally>('tally', 'a'))!.state.count)).toBe(15);
    expect(batches.length).toBe(afterStop);
  });

  it('commits the batches of a window once, after telling listeners of each, and what is pending when it stops', async () => {
    const ledger = newLedger();
    const inner = new MemoryStore();
    const commits: number[] = [];
    const store = Object.assign(Object.create(inner) as MemoryStore, {
      commit: async (commit: Parameters<MemoryStore['commit']>[0]) => {
        commits.push(commit.entities.length);
        await inner.commit(commit);
      },
    });
    const tailing = new ProjectionRuntime({ consumer, ledger, store, projections: [...projections], commitIntervalMs: 60_000, commitEntities: 2 });
    const heard: FoldedBatchWithRecords[] = [];
    tailing.onFolded((batch) => heard.push(batch));
    const stored: Frontier[] = [];
    tailing.onStored((f) => stored.push(f));
    tailing.start();
    const folded = async (count: number): Promise<void> => {
      while (heard.length < count) await new Promise((resolve) => setTimeout(resolve, 2));
    };
    // Two batches of alpha events (which only tally folds) that change one entity: under the window's 2.
    await ledger.append([testEvent('1', 'alpha', 'a', { delta: 1, label: 'x', tag: 't' })]);
    await folded(1);
    await ledger.append([testEvent('2', 'alpha', 'a', { delta: 2, label: 'y', tag: 't' })]);
    await folded(2);
    expect(commits).toEqual([]);
    expect(await inner.get('tally', 'a')).toBeUndefined();
    expect(counterValue((await tailing.get<Tally>('tally', 'a'))!.state.count)).toBe(3);
    // A second entity fills the window: one commit of both.
    await ledger.append([testEvent('3', 'alpha', 'b', { delta: 5, label: 'z', tag: 't' })]);
    while (commits.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(commits).toEqual([2]);
    expect(stored).toHaveLength(1);
    expect(counterValue((await inner.get<Tally>('tally', 'b'))!.state.count)).toBe(5);
    // Folded, heard of, not stored: stopping commits it.
    await ledger.append([testEvent('4', 'alpha', 'a', { delta: 10, label: 'w', tag: 't' })]);
    await folded(4);
    expect(counterValue((await inner.get<Tally>('tally', 'a'))!.state.count)).toBe(3);
    await tailing.stop();
    expect(commits).toEqual([2, 1]);
    expect(counterValue((await inner.get<Tally>('tally', 'a'))!.state.count)).toBe(13);
    expect(stored.at(-1)).toEqual(expect.objectContaining(await ledger.head()));
  });

  it('commits a window no later than its interval once the ledger goes quiet', async () => {
    const ledger = newLedger();
    const store = new MemoryStore();
    const tailing = new ProjectionRuntime({ consumer, ledger, store, projections: [...projections], commitIntervalMs: 30 });
    const stored = new Promise<number>((resolve) => {
      const started = performance.now();
      tailing.onStored(() => resolve(performance.now() - started));
    });
    tailing.start();
    await ledger.append([testEvent('1', 'alpha', 'a', { delta: 1, label: 'x', tag: 't' })]);
    expect(await stored).toBeLessThan(5_000);
    expect(counterValue((await store.get<Tally>('tally', 'a'))!.state.count)).toBe(1);
    await tailing.stop();
  });

  it('never lets a slow store read overwrite what a batch folded meanwhile', async () => {
    const ledger = newLedger();
    const inner = new MemoryStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A store read that takes its time: the fault is the timing, which the real stores give only rarely.
    const slowStore = Object.assign(Object.create(inner) as MemoryStore, {
      get: async <S>(namespace: string, key: string) => {
        const record = await inner.get<S>(namespace, key);
        await gate;
        return record;
      },
    });
    const folding = runtime(ledger, slowStore, 10);
    await ledger.append([testEvent('1', 'alpha', 'a', { delta: 1, label: 'x', tag: 't' })]);
    await folding.catchUp();
    // Make the entity a cache miss, start a read, and fold a batch while it waits.
    const reading = runtime(ledger, slowStore, 10);
    await reading.catchUp();
    const slowRead = reading.get<Tally>('tally', 'z');
    await ledger.append([testEvent('2', 'alpha', 'z', { delta: 7, label: 'y', tag: 't' })]);
    await reading.catchUp();
    release();
    expect(counterValue((await slowRead)!.state.count)).toBe(7);
    expect(counterValue((await reading.get<Tally>('tally', 'z'))!.state.count)).toBe(7);
  });

  it('tells listeners the clean state of an entity whose fold changed it and then threw', async () => {
    const ledger = newLedger();
    const tailing = runtime(ledger, new MemoryStore(), 10);
    await ledger.append([testEvent('1', 'alpha', 'a', { delta: 1, label: 'x', tag: 't' })]);
    await tailing.catchUp();
    const heard: FoldedBatchWithRecords[] = [];
    tailing.onFolded((batch) => heard.push(batch));
    // The tally fold adds to its counter before it throws on poison.
    await ledger.append([testEvent('2', 'alpha', 'a', { delta: 5, label: 'y', tag: 't', poison: true })]);
    await tailing.catchUp();
    const published = heard.flatMap((batch) => batch.entities).filter((entity) => entity.namespace === 'tally' && entity.key === 'a');
    expect(published.length).toBeGreaterThan(0);
    expect(counterValue((published.at(-1)!.record.state as Tally).count)).toBe(1);
    expect(counterValue((await tailing.get<Tally>('tally', 'a'))!.state.count)).toBe(1);
  });

  it('retries a failed batch while tailing, from what the store holds', async () => {
    const ledger = newLedger();
    const store = new FaultyStore(new MemoryStore());
    store.arm('before', 0);
    const tailing = new ProjectionRuntime({ consumer, ledger, store, projections: [...projections], retryDelayMs: 5, logger: pino({ level: 'silent' }) });
    tailing.start();
    await ledger.append([testEvent('1', 'alpha', 'a', { delta: 4, label: 'x', tag: 't' })]);
    // Listeners hear of a batch before its commit: wait for the store itself.
    while ((await store.get('tally', 'a')) === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    await tailing.stop();
    expect(counterValue((await store.get<Tally>('tally', 'a'))!.state.count)).toBe(4);
    expect(tailing.frontier()).toEqual(expect.objectContaining(await ledger.head()));
  });

  it('refuses a projection over a stream the ledger does not have, and two projections of one name', () => {
    const ledger = newLedger();
    expect(() => new ProjectionRuntime({ consumer, ledger, store: new MemoryStore(), projections: [{ ...tally, streams: ['gamma'] }] })).toThrow(
      expect.objectContaining({ code: 'unknown_stream' }),
    );
    expect(() => new ProjectionRuntime({ consumer, ledger, store: new MemoryStore(), projections: [tally, tally] })).toThrow(
      expect.objectContaining({ code: 'duplicate_projection' }),
    );
  });

  it('forgets re-deliveries only within the id window', async () => {
    const inner = newLedger();
    const event = testEvent('1', 'alpha', 'a', { delta: 1, label: 'x', tag: 't' });
    await inner.append([event, testEvent('2', 'alpha', 'b', { delta: 1, label: 'x', tag: 't' }), { ...event, id: '1~1' }]);
    const count = async (idWindow: number): Promise<number> => {
      const store = new MemoryStore();
      await runtime(atLeastOnce(inner), store, 1, idWindow).catchUp();
      return counterValue((await store.get<Tally>('tally', 'a'))!.state.count);
    };
    expect(await count(2)).toBe(1);
    expect(await count(1)).toBe(2);
  });
});
