import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveLedger } from '../archive/archiver.js';
import { attachLive } from '../archive/attachLive.js';
import { DirStorage } from '../archive/dirStorage.js';
import { archiveFormats } from '../archive/manifest.js';
import { rebuildFromArchive } from '../archive/rebuild.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { retailDomain } from '../retail/domain.js';
import { retailProjections } from '../retail/projections.js';
import { retailViews } from '../retail/views.js';
import { atLeastOnceDelivery, retailHistory } from './retail/arbitraries.js';
import { oracleViews } from './retail/oracle.js';
import { appendAll, retailLedger } from './retail/pipeline.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { storeStates, viewsOverStates } from './support/storeContents.js';

/*
 * Invariant 4 of DESIGN.md: a history, re-deliveries and all, appended in three parts with
 * an archive run after each of the first two (so the archive ends at a random point and the
 * second run is incremental), rebuilt from the archive by a random number of parts merged,
 * then attached to the live ledger (which holds the archived records too: they overlap),
 * gives the views of folding the whole ledger live, and those of the spec.
 */
let root: string;
let run = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'foldline-replay-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const { consumer } = retailDomain;

describe('invariant 4: rebuild from the archive, then attach to live', () => {
  it('gives the same views as folding the whole history live, even where archive and live overlap', async () => {
    await fc.assert(
      fc.asyncProperty(
        retailHistory(150).chain((events) => fc.tuple(fc.constant(events), atLeastOnceDelivery(events, 30))),
        fc.tuple(fc.nat(), fc.nat()),
        fc.tuple(fc.constantFrom(...archiveFormats), fc.constantFrom(...archiveFormats)),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        async ([events, delivered], [cutA, cutB], [firstFormat, secondFormat], parts, batch, handoutEntities, encodeIdleAfter) => {
          const [first, second] = [cutA % (delivered.length + 1), cutB % (delivered.length + 1)].sort((a, b) => a - b) as [number, number];
          const ledger = retailLedger();
          const storage = new DirStorage(join(root, `archive-${run++}`));
          await appendAll(ledger, delivered.slice(0, first), [batch]);
          await archiveLedger({ ledger, storage, format: firstFormat, segmentBytes: 512 });
          await appendAll(ledger, delivered.slice(first, second), [batch]);
          await archiveLedger({ ledger, storage, format: secondFormat, segmentBytes: 512 });
          await appendAll(ledger, delivered.slice(second), [batch]);

          const rebuilt = new MemoryStore();
          await rebuildFromArchive({ storage: { kind: 'dir', path: storage.location }, topology: retailDomain.topology, projections: retailProjections, route: retailDomain.route, consumer, store: rebuilt, workers: parts, threads: false, handoutEntities, encodeIdleAfter });
          await attachLive({ ledger, store: rebuilt, projections: retailProjections, consumer });

          const live = new MemoryStore();
          await attachLive({ ledger, store: live, projections: retailProjections, consumer });

          const keys = viewKeysOf(events);
          const views = viewsOverStates(await storeStates(rebuilt, retailProjections), retailViews, keys);
          expect(views).toEqual(viewsOverStates(await storeStates(live, retailProjections), retailViews, keys));
          expect(views).toEqual(oracleViews(events, keys));
          expect((await rebuilt.checkpoint(consumer))?.frontier).toEqual(await ledger.head());
          await rm(storage.location, { recursive: true, force: true });
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
