import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveLedger } from '../archive/archiver.js';
import { attachLive } from '../archive/attachLive.js';
import { DirStorage } from '../archive/dirStorage.js';
import { rebuildFromArchive } from '../archive/rebuild.js';
import { clearStaging, markStagingComplete, someRebuilt, stagingPath, switchToRebuiltState } from '../archive/staging.js';
import type { Ledger } from '../ledger/types.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import type { ProjectionDefinition } from '../projections/types.js';
import { retailDomain } from '../retail/domain.js';
import { retailProjections } from '../retail/projections.js';
import { retailViews } from '../retail/views.js';
import { atLeastOnceDelivery, retailHistory } from './retail/arbitraries.js';
import { oracleViews } from './retail/oracle.js';
import { appendAll, retailLedger } from './retail/pipeline.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { storeStates, viewsOverStates } from './support/storeContents.js';

/*
 * A rebuild of some projections (`foldline rebuild --projection`) while the others stay:
 * the live store folded the ledger up to a random point either without those projections
 * (they are new to the domain) or with a broken fold of them (a fix to roll out); the
 * archive ends at a random point, the rebuild runs at another (going on from the live
 * ledger or not), the ledger grows on, and after the switch and a catch-up every view
 * equals that of folding the whole history live with the right folds, and the spec's.
 */
let root: string;
let run = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'foldline-some-projections-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const { consumer } = retailDomain;
const names = retailProjections.map((definition) => definition.name);

/** A fold that drops about half the events: what a bug fixed since would have left in the store. */
function broken<S>(definition: ProjectionDefinition<S>): ProjectionDefinition<S> {
  return { ...definition, fold: (state, event, key, context) => (event.id.charCodeAt(event.id.length - 1) % 2 === 0 ? state : definition.fold(state, event, key, context)) };
}

async function withStore(path: string, use: (store: EmbeddedStore) => Promise<void>): Promise<void> {
  const store = new EmbeddedStore({ path });
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

async function rebuildSome(ledger: Ledger, archive: string, data: string, chosen: readonly ProjectionDefinition[], thenLive: boolean, parts: number): Promise<void> {
  await clearStaging(data);
  let checkpoint;
  await withStore(stagingPath(data), async (store) => {
    await rebuildFromArchive({ storage: { kind: 'dir', path: archive }, topology: retailDomain.topology, projections: chosen, route: retailDomain.route, consumer, store, workers: parts, threads: false, encodeIdleAfter: 5 });
    if (thenLive) await attachLive({ ledger, store, projections: chosen, consumer, idWindow: 0 });
    checkpoint = (await store.checkpoint(consumer))?.frontier;
  });
  await markStagingComplete(data, { consumer, checkpoint, some: someRebuilt(chosen, retailProjections) });
}

describe('rebuilding some projections while the others stay', () => {
  it('gives the views of folding the whole history live, whether the projections were new or folded wrongly', async () => {
    await fc.assert(
      fc.asyncProperty(
        retailHistory(120).chain((events) => fc.tuple(fc.constant(events), atLeastOnceDelivery(events, 20))),
        fc.tuple(fc.nat(), fc.nat(), fc.nat()),
        fc.subarray(names, { minLength: 1 }),
        fc.constantFrom('new', 'broken'),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        async ([events, delivered], [cutA, cutB, cutC], chosenNames, before, thenLive, parts) => {
          const [archiveAt, rebuildAt] = [cutA % (delivered.length + 1), cutB % (delivered.length + 1)].sort((a, b) => a - b) as [number, number];
          const stopAt = cutC % (delivered.length + 1);
          const chosen = retailProjections.filter((definition) => chosenNames.includes(definition.name));
          const folded = before === 'new' ? retailProjections.filter((definition) => !chosen.includes(definition)) : retailProjections.map((definition) => (chosen.includes(definition) ? broken(definition) : definition));
          const ledger = retailLedger();
          const archive = join(root, `archive-${run}`);
          const data = join(root, `data-${run++}`);
          const steps: Array<[at: number, step: () => Promise<void>]> = [
            [archiveAt, async () => void (await archiveLedger({ ledger, storage: new DirStorage(archive), format: 'arrow', segmentBytes: 512 }))],
            [rebuildAt, () => rebuildSome(ledger, archive, data, chosen, thenLive, parts)],
            // The service folding the ledger so far, then stopped.
            [stopAt, () => withStore(join(data, 'state'), (store) => attachLive({ ledger, store, projections: folded, consumer, idWindow: 0 }))],
          ];
          // The archive comes before the rebuild at the same point; the service may stop before, between or after.
          steps.sort((a, b) => a[0] - b[0]);
          let appended = 0;
          for (const [at, step] of steps) {
            await appendAll(ledger, delivered.slice(appended, at), [7]);
            appended = at;
            await step();
          }
          await appendAll(ledger, delivered.slice(appended), [7]);

          expect(await switchToRebuiltState(data)).toBe(true);
          const keys = viewKeysOf(events);
          await withStore(join(data, 'state'), async (store) => {
            await attachLive({ ledger, store, projections: retailProjections, consumer, idWindow: 0 });
            expect(viewsOverStates(await storeStates(store, retailProjections), retailViews, keys)).toEqual(oracleViews(events, keys));
            expect((await store.checkpoint(consumer))?.frontier).toEqual(await ledger.head());
          });
          await rm(archive, { recursive: true, force: true });
          await rm(data, { recursive: true, force: true });
        },
      ),
      { numRuns: 40 },
    );
  }, 180_000);
});
