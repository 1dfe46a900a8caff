import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveLedger } from '../archive/archiver.js';
import { DirStorage } from '../archive/dirStorage.js';
import { rebuildFromArchive } from '../archive/rebuild.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import type { CloudEvent } from '../ledger/types.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import type { DeadLetter } from '../projections/types.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { generateEvents } from '../retail/generator.js';
import { projections as poisonProjections } from './support/poisonTopology.js';
import { canonicalStates, storeStates } from './support/storeContents.js';

/*
 * A fold that throws in a rebuild does what it does live: the record becomes a dead letter
 * and the entity's state is what folding its other records gives (even when the fold changed
 * the state before it threw), whatever the workers and wherever the poisoned events are.
 */
const topology = new URL('./support/poisonTopology.ts', import.meta.url).href;
const base = [...generateEvents({ seed: 11, events: 600 })];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foldline-dead-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const letterOf = ({ projection, key, position, seq, event, reason }: DeadLetter) => ({ projection, key, position, seq, id: event.id, reason });
const sorted = (letters: DeadLetter[]) => letters.map(letterOf).sort((a, b) => (`${a.position}/${a.seq}/${a.key}` < `${b.position}/${b.seq}/${b.key}` ? -1 : 1));

describe('a rebuild over folds that throw', () => {
  it('dead-letters what the live runtime dead-letters, and stores the states it stores', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: base.length - 1 }), { minLength: 1, maxLength: 12 }), fc.boolean(), fc.integer({ min: 1, max: 3 }), async (poisoned, keyPoison, workers) => {
        const events: CloudEvent[] = base.map((event, i) => (poisoned.includes(i) ? { ...event, data: { ...(event.data as object), poison: true } } : event));
        if (keyPoison) events.splice(300, 0, { ...base[0]!, id: 'poison-key-1', subject: 'poison-key' });
        const ledger = new MemoryLedger({ streams: retailStreams(4), route: retailRouter });
        for (let at = 0; at < events.length; at += 50) await ledger.append(events.slice(at, at + 50));
        const live = new MemoryStore();
        await new ProjectionRuntime({ consumer: 'tally', ledger, store: live, projections: poisonProjections }).catchUp();
        const storage = new DirStorage(join(dir, `archive-${++run}`));
        await archiveLedger({ ledger, storage, format: 'ndjson', segmentBytes: 16 * 1024 });

        for (const threads of [false, true]) {
          const store = new MemoryStore();
          await rebuildFromArchive({ storage: { kind: 'dir', path: storage.location }, topology, projections: poisonProjections, route: retailRouter, consumer: 'tally', store, workers, threads });
          expect(canonicalStates(await storeStates(store, poisonProjections))).toEqual(canonicalStates(await storeStates(live, poisonProjections)));
          expect(sorted(await store.deadLetters('tally'))).toEqual(sorted(await live.deadLetters('tally')));
        }
      }),
      { numRuns: 6 },
    );
  });
});
