import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../ledger/types.js';
import { EntityStates } from '../projections/entityStates.js';
import { retailProjections } from '../retail/projections.js';
import { retailHistory } from './retail/arbitraries.js';
import { oracleViews } from './retail/oracle.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { allRecords, appendAll, foldRecords, retailLedger, viewsOf } from './retail/pipeline.js';

/*
 * Invariants 1–3 of docs/retail.md over the whole retail pipeline (ledger → entity folds →
 * views), checked against an oracle that computes the views straight from the spec.
 */
const runs = { numRuns: 200 };
const batchSizes = fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 });

async function viewsAfterAppending(events: CloudEvent[], keys: Array<[string, string]>, sizes: number[]): Promise<Record<string, string>> {
  const ledger = retailLedger();
  await appendAll(ledger, events, sizes);
  return viewsOf(foldRecords(await allRecords(ledger)), keys);
}

describe('retail views converge', () => {
  it('1. any permutation of the events gives the same views, equal to the spec', async () => {
    await fc.assert(
      fc.asyncProperty(
        retailHistory(500).chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))),
        batchSizes,
        async ([events, permuted], sizes) => {
          const keys = viewKeysOf(events);
          const expected = oracleViews(events, keys);
          expect(await viewsAfterAppending(events, keys, [1])).toEqual(expected);
          expect(await viewsAfterAppending(permuted, keys, sizes)).toEqual(expected);
        },
      ),
      runs,
    );
  });

  it('2. any number of re-deliveries of any events gives the same views', async () => {
    await fc.assert(
      fc.asyncProperty(
        retailHistory(500).chain((events) =>
          fc.tuple(fc.constant(events), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 200 }).map((picks) => {
            const redelivered = [...events];
            for (const [from, to] of picks) if (events.length > 0) redelivered.splice(to % (redelivered.length + 1), 0, events[from % events.length]!);
            return redelivered;
          })),
        ),
        batchSizes,
        async ([events, withDuplicates], sizes) => {
          const keys = viewKeysOf(events);
          expect(await viewsAfterAppending(withDuplicates, keys, sizes)).toEqual(oracleViews(events, keys));
        },
      ),
      runs,
    );
  });

  it('3. replicas folding disjoint shard sets, merged in any order, equal one replica folding all', async () => {
    await fc.assert(
      fc.asyncProperty(retailHistory(500), fc.integer({ min: 2, max: 4 }), fc.nat(), fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), async (events, replicaCount, orderSeed, owner) => {
        const ledger = retailLedger();
        await appendAll(ledger, events, [25]);
        const records = await allRecords(ledger);
        const keys = viewKeysOf(events);
        const shardIndex = (stream: string, shard: number): number => ['customer', 'product', 'salesperson'].indexOf(stream) * 4 + shard;
        const replicas = Array.from({ length: replicaCount }, (_, r) =>
          foldRecords(records.filter((rec) => owner[shardIndex(rec.stream, rec.shard)]! % replicaCount === r)),
        );
        // Merge in a seed-chosen order, into a fresh, empty replica.
        const merged = new EntityStates(retailProjections);
        const order = replicas.map((_, i) => i).sort((a, b) => ((a * 7 + orderSeed) % 11) - ((b * 7 + orderSeed) % 11));
        for (const r of order) merged.mergeFrom(replicas[r]!);
        expect(viewsOf(merged, keys)).toEqual(viewsOf(foldRecords(records), keys));
        expect(viewsOf(merged, keys)).toEqual(oracleViews(events, keys));
      }),
      runs,
    );
  });
});
