import { setImmediate } from 'node:timers/promises';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../crdt/index.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { retailProjections } from '../retail/projections.js';
import { retailViews } from '../retail/views.js';
import { atLeastOnceDelivery, retailHistory } from './retail/arbitraries.js';
import { oracleViews } from './retail/oracle.js';
import { batchesOf, shards } from './retail/pipeline.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { FaultyStore } from './support/projectionFixtures.js';

/*
 * Invariants 1 and 2 of DESIGN.md through the path production serves views from: an
 * at-least-once ledger (re-deliveries land at new positions), the projection runtime with
 * its recent-id window, a store that outlives the consumer, and the view engine. Any
 * delivery order, any re-deliveries, consumers stopped or crashed anywhere and restarted:
 * every view equals the spec oracle over the distinct events.
 */

/** How a consumer ends: a shutdown commits its open window, a crash loses it. */
type Halt = 'shutdown' | 'crash';

const restart = fc.record({
  /** Appends made while this consumer runs. */
  appends: fc.nat({ max: 12 }),
  /** Halts it mid-stream once it has folded this many batches, should that come before the appends end. */
  atBatch: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
  halt: fc.constantFrom<Halt>('shutdown', 'crash'),
});

const scenario = retailHistory(300).chain((events) =>
  fc.record({
    events: fc.constant(events),
    delivered: atLeastOnceDelivery(events, 50),
    batchSizes: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }),
    /** After which appends (cycled) the consumer gets to fold what it can before the next one. */
    pauses: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
    restarts: fc.array(restart, { minLength: 1, maxLength: 3 }),
    /** Records read from each shard per batch: small, so that a consumer folds many batches. */
    readBatch: fc.integer({ min: 1, max: 8 }),
    /** Every batch committed, windows closed by age, or windows closed only by a stop or catch-up. */
    commitIntervalMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 }), fc.constant(60_000)),
  }),
);

type Settings = { readBatch: number; commitIntervalMs: number };

interface Consumer {
  runtime: ProjectionRuntime;
  views: ViewEngine;
}

const silent = pino({ level: 'silent' });

function startConsumer(ledger: MemoryLedger, store: FaultyStore, { readBatch, commitIntervalMs }: Settings): Consumer {
  const runtime = new ProjectionRuntime({
    consumer: 'retail-views',
    ledger,
    store,
    // idWindow stays at its default, which holds more identities than a history has
    // deliveries: every re-delivery is within it (beyond it the fold counts it again).
    projections: retailProjections,
    batchSize: readBatch,
    commitIntervalMs,
    // A crash is a commit that fails as the consumer stops: its retry need not wait.
    retryDelayMs: 1,
    logger: silent,
  });
  const views = new ViewEngine({ source: runtime, views: retailViews });
  runtime.start();
  return { runtime, views };
}

/** A crash fails the next commit (the open window's, if any), so the store keeps the last checkpoint. */
async function haltConsumer({ runtime, views }: Consumer, store: FaultyStore, halt: Halt): Promise<void> {
  if (halt === 'crash') store.arm('before', 0);
  await runtime.stop();
  store.disarm();
  views.close();
}

describe('retail views converge through the production path', () => {
  it('any delivery order, re-deliveries and restarts of the runtime give the views of the spec', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, delivered, batchSizes, pauses, restarts, ...settings }) => {
        const ledger = new MemoryLedger({ streams: retailStreams(shards), route: retailRouter, identityDedup: false });
        const store = new FaultyStore(new MemoryStore());
        const batches = batchesOf(delivered, batchSizes);
        let next = 0;
        const append = async (): Promise<void> => {
          await ledger.append(batches[next]!);
          if (pauses[next++ % pauses.length]) await setImmediate();
        };
        for (const { appends, atBatch, halt } of restarts) {
          const consumer = startConsumer(ledger, store, settings);
          let halted: Promise<void> | undefined;
          const haltOnce = (): Promise<void> => (halted ??= haltConsumer(consumer, store, halt));
          let folded = 0;
          consumer.runtime.onFolded(() => {
            if (++folded === atBatch) void haltOnce();
          });
          // The ledger takes appends whether or not the consumer still runs.
          for (const end = Math.min(batches.length, next + appends); next < end; ) await append();
          await haltOnce();
        }

        const last = startConsumer(ledger, store, settings);
        const keys = viewKeysOf(events);
        // Values read now are kept, so the later folded batches must reach them through their dependencies.
        for (const [view, key] of keys) await last.views.read(view, key);
        while (next < batches.length) await append();
        await last.runtime.catchUp();
        const actual: Record<string, string> = {};
        for (const [view, key] of keys) actual[`${view}/${key}`] = canonicalJson((await last.views.read(view, key)).value);
        await haltConsumer(last, store, 'shutdown');
        await ledger.close();
        expect(actual).toEqual(oracleViews(events, keys));
      }),
      { numRuns: 200 },
    );
  });
});
