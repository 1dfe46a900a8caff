import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveLedger } from '../archive/archiver.js';
import { DirStorage } from '../archive/dirStorage.js';
import type { Manifest } from '../archive/manifest.js';
import { rebuildFromArchive } from '../archive/rebuild.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import type { CloudEvent, Ledger } from '../ledger/types.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import { retailProjections } from '../retail/projections.js';
import { runFoldline } from './support/cliProcess.js';
import { canonicalStates, storeStates } from './support/storeContents.js';

const events = [...generateEvents({ seed: 7, events: 4_000 })];

/** Entity states of a runtime that folded the whole ledger live: what a rebuild must give. */
async function liveStates(ledger: Ledger): Promise<Record<string, string>> {
  const store = new MemoryStore();
  await new ProjectionRuntime({ consumer: retailDomain.consumer, ledger, store, projections: retailProjections }).catchUp();
  return canonicalStates(await storeStates(store, retailProjections));
}

async function appendInBatches(ledger: Ledger, list: CloudEvent[]): Promise<void> {
  for (let at = 0; at < list.length; at += 500) await ledger.append(list.slice(at, at + 500));
}

describe('archive and rebuild', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foldline-archive-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('archives incrementally in size-rotated segments, and rebuilds the live states with any number of workers', async () => {
    const ledger = new MemoryLedger({ streams: retailStreams(4), route: retailRouter });
    const storage = new DirStorage(join(dir, 'archive'));
    await appendInBatches(ledger, events.slice(0, 3_000));
    const first = await archiveLedger({ ledger, storage, format: 'arrow', segmentBytes: 64 * 1024 });
    expect(first.records).toBe(3_000);
    // Rotated by size: some shard got more than one segment.
    expect(first.segments.length).toBeGreaterThan(new Set(first.segments.map((s) => `${s.stream}/${s.shard}`)).size);
    // A run with nothing new writes nothing.
    expect((await archiveLedger({ ledger, storage, format: 'arrow' })).records).toBe(0);
    await appendInBatches(ledger, events.slice(3_000, 3_500));
    const second = await archiveLedger({ ledger, storage, format: 'ndjson', segmentBytes: 64 * 1024 });
    expect(second.records).toBe(500);
    await appendInBatches(ledger, events.slice(3_500));
    const third = await archiveLedger({ ledger, storage, format: 'parquet', segmentBytes: 64 * 1024 });
    expect(third.records).toBe(500);
    expect(third.manifest.segments).toHaveLength(first.segments.length + second.segments.length + third.segments.length);
    // Each shard's segments follow on from each other, no seq twice.
    for (const [later, earlier] of [[second, first], [third, second]] as const) {
      for (const segment of later.segments) {
        for (const old of earlier.manifest.segments.filter((s) => s.stream === segment.stream && s.shard === segment.shard)) expect(BigInt(segment.firstSeq)).toBeGreaterThan(BigInt(old.lastSeq));
      }
    }

    const expected = await liveStates(ledger);
    for (const [workers, threads] of [[1, false], [3, false], [2, true]] as const) {
      const store = new MemoryStore();
      const result = await rebuildFromArchive({ storage: { kind: 'dir', path: storage.location }, topology: retailDomain.topology, projections: retailProjections, route: retailDomain.route, consumer: 'retail', store, workers, threads });
      expect(result.records).toBe(4_000);
      expect(result.bad).toEqual([]);
      expect(canonicalStates(await storeStates(store, retailProjections))).toEqual(expected);
      expect((await store.checkpoint('retail'))?.frontier).toEqual(await ledger.head());
    }
  });

  it('runs end to end through the CLI: archive twice, rebuild with two workers into the data directory', async () => {
    const data = join(dir, 'data');
    const archive = join(dir, 'archive');
    const ledger = await EmbeddedLedger.open({ path: join(data, 'ledger'), streams: retailStreams(4), route: retailRouter });
    await appendInBatches(ledger, events.slice(0, 2_500));
    await ledger.close();
    const first = await runFoldline(['archive', '--data', data, '--out', archive]);
    expect([first.code, first.stderr]).toEqual([0, expect.any(String)]);
    expect(JSON.parse(first.stdout)).toMatchObject({ records: 2_500 });

    const reopened = await EmbeddedLedger.open({ path: join(data, 'ledger'), route: retailRouter });
    await appendInBatches(reopened, events.slice(2_500));
    const expected = await liveStates(reopened);
    const head = await reopened.head();
    await reopened.close();
    const second = await runFoldline(['archive', '--data', data, '--out', archive]);
    expect(JSON.parse(second.stdout)).toMatchObject({ records: 1_500 });
    const manifest = JSON.parse(await readFile(join(archive, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.segments.reduce((sum, s) => sum + s.count, 0)).toBe(4_000);

    const rebuilt = await runFoldline(['rebuild', '--archive', archive, '--data', data, '--workers', '2']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ records: 4_000, switched: true, checkpoint: head });
    const store = new EmbeddedStore({ path: join(data, 'state') });
    try {
      expect(canonicalStates(await storeStates(store, retailProjections))).toEqual(expected);
      expect((await store.checkpoint(retailDomain.consumer))?.frontier).toEqual(head);
    } finally {
      await store.close();
    }
  });
});
