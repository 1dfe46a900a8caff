import { Worker } from 'node:worker_threads';
import { FoldlineError } from '../base/errors.js';
import { compareSeq, decodeState, frontier, parsePositionKey, positionKey, type Frontier } from '../crdt/index.js';
import type { StreamRouter } from '../ledger/types.js';
import type { ProjectionDefinition, StateStore } from '../projections/types.js';
import { readManifest } from './archiver.js';
import { bareExportFiles } from './bareExport.js';
import { foldTask, type FoldTask } from './foldTask.js';
import { archiveEnd, recordCount, type Manifest, type SegmentEntry } from './manifest.js';
import type { FromRebuildWorker, RebuildWorkerData } from './rebuildProtocol.js';
import type { BadPart } from './segmentFold.js';
import { openStorage, type StorageRef } from './storageRef.js';

export interface RebuildOptions {
  storage: StorageRef;
  /** URL of the topology module the workers import (the fold worker's: the same fold code). */
  topology: string;
  /** The projections to rebuild, as the topology exports them (used here to merge). */
  projections: readonly ProjectionDefinition[];
  /** The topology's stream router (a bare export's events are routed as the ledger routes them). */
  route: StreamRouter;
  /** The consumer whose checkpoint the store gets. */
  consumer: string;
  /** A store holding nothing of this consumer yet (a staging store): it gets the states and the checkpoint. */
  store: StateStore;
  /** Parts the shards are dealt into, each folded by a worker thread. */
  workers: number;
  /** False: fold the parts one after the other in this thread, and merge them all the same (tests). Default true. */
  threads?: boolean;
  /** Shards per stream a bare export is hashed into (an archive keeps its own layout). Default 4. */
  bareShards?: number;
  skipBad?: boolean;
  /** Told now and then with the records folded so far and in all (0: not known, a bare export). */
  onProgress?: (folded: number, total: number) => void;
}

export interface RebuildResult {
  /** Records folded (an archive's: as its manifest counts them). */
  records: number;
  entities: number;
  /** The checkpoint the store got: where the archive ends; empty for a bare export, which holds no ledger positions. */
  checkpoint: Frontier;
  /** True for a bare export (no manifest). */
  bare: boolean;
  bad: BadPart[];
}

/** Entities per store commit: a commit is one transaction, kept of moderate size. */
const commitEntities = 10_000;
const progressMs = 250;

/**
 * Rebuilds a consumer's entity states from an archive: whole shards are dealt out to
 * worker threads, each folds its own with the topology's projections, and their partial
 * states are merged with each projection's CRDT merge (an entity fed by two streams is
 * folded in two workers). The store gets the merged states, then the checkpoint at the
 * archive's end, so that the live runtime goes on from there: it reads each shard after
 * the archive's last seq, with no gap and nothing folded twice.
 */
export async function rebuildFromArchive(options: RebuildOptions): Promise<RebuildResult> {
  const storage = await openStorage(options.storage);
  const manifest = await readManifest(storage);
  let tasks: FoldTask[];
  let total = 0;
  if (manifest) {
    tasks = dealShards(manifest, options.workers).map((segments) => ({ kind: 'segments', segments }));
    total = recordCount(manifest);
  } else {
    const files = await bareExportFiles(storage);
    if (files.length === 0) throw new FoldlineError('bad_archive', `${storage.location} holds no archive (no manifest.json) and no export files (.ndjson, .jsonl, .ndjson.gz, .jsonl.gz, .json.gz)`);
    tasks = dealShardNumbers(options.bareShards ?? 4, options.workers).map((owned) => ({ kind: 'bare', files, shards: options.bareShards ?? 4, owned }));
  }
  const bad: BadPart[] = [];
  const reported = new Set<string>();
  // Every worker of a bare export reads every line: one it cannot place is reported by each.
  const onBad = (part: BadPart): void => {
    const id = JSON.stringify([part.file, part.reason]);
    if (reported.has(id)) return;
    reported.add(id);
    bad.push(part);
  };
  const merged = new Map<ProjectionDefinition, Map<string, unknown>>(options.projections.map((definition) => [definition, new Map()]));
  const mergeIn = (definition: ProjectionDefinition, key: string, state: unknown): void => {
    const states = merged.get(definition)!;
    const current = states.get(key);
    states.set(key, current === undefined ? state : definition.merge(current, state));
  };

  let folded = 0;
  if (options.threads === false) {
    for (const task of tasks) {
      const states = await foldTask(task, {
        storage,
        projections: options.projections,
        route: options.route,
        skipBad: options.skipBad ?? false,
        onFolded: (records) => {
          folded += records;
          options.onProgress?.(folded, total);
        },
        onBad,
      });
      for (const definition of options.projections) for (const key of states.keys(definition)) mergeIn(definition, key, states.get(definition, key));
    }
  } else {
    const counts = new Int32Array(new SharedArrayBuffer(4 * tasks.length));
    const count = (): number => counts.reduce((a, b) => a + b, 0);
    const report = setInterval(() => options.onProgress?.(count(), total), progressMs);
    try {
      const results = await Promise.all(
        tasks.map((task, slot) =>
          runWorker({ topology: options.topology, projections: options.projections.map((d) => d.name), storage: options.storage, task, skipBad: options.skipBad ?? false, folded: counts.buffer as SharedArrayBuffer, slot }, onBad),
        ),
      );
      for (const namespaces of results) {
        for (const [name, bytes] of namespaces) {
          const definition = options.projections.find((d) => d.name === name)!;
          for (const [key, state] of decodeState<Array<[string, unknown]>>(bytes)) mergeIn(definition, key, state);
        }
      }
    } finally {
      clearInterval(report);
    }
    folded = count();
    options.onProgress?.(folded, total);
  }

  const end = manifest ? archiveEnd(manifest) : frontier();
  const entities = await storeStates(options.store, options.consumer, merged, end);
  return { records: manifest ? total : folded, entities, checkpoint: end, bare: !manifest, bad };
}

/**
 * Writes the states, each with the archive's end over its projection's streams as its
 * frontier (it reflects every archived record that concerns it), in commits of moderate
 * size; the checkpoint comes with the last. Until then the store's checkpoint is empty,
 * and a runtime that started from it would skip, by the entity frontiers, what is stored.
 */
async function storeStates(store: StateStore, consumer: string, merged: Map<ProjectionDefinition, Map<string, unknown>>, end: Frontier): Promise<number> {
  let batch: Array<{ namespace: string; key: string; record: { state: unknown; frontier: Frontier } }> = [];
  let stored = 0;
  const commit = async (checkpoint: Frontier): Promise<void> => {
    await store.commit({ consumer, entities: batch, checkpoint: { frontier: checkpoint, recentIds: [] }, deadLetters: [] });
    stored += batch.length;
    batch = [];
  };
  for (const [definition, states] of merged) {
    const streams = new Set(definition.streams);
    const entityFrontier = frontier();
    for (const position of Object.keys(end)) if (streams.has(parsePositionKey(position).stream)) entityFrontier[position] = end[position]!;
    for (const [key, state] of states) {
      batch.push({ namespace: definition.name, key, record: { state, frontier: entityFrontier } });
      if (batch.length >= commitEntities) await commit(frontier());
    }
  }
  await commit(end);
  return stored;
}

/**
 * The segments cut into at most `workers` parts of whole shards, each shard's segments in
 * seq order, the shards dealt largest first to the part with the fewest records.
 */
export function dealShards(manifest: Manifest, workers: number): SegmentEntry[][] {
  checkWorkers(workers);
  const byShard = new Map<string, SegmentEntry[]>();
  for (const segment of manifest.segments) {
    const position = positionKey(segment.stream, segment.shard);
    byShard.set(position, [...(byShard.get(position) ?? []), segment]);
  }
  const shards = [...byShard.values()].map((segments) => ({ segments: segments.sort((a, b) => compareSeq(a.firstSeq, b.firstSeq)), count: segments.reduce((sum, s) => sum + s.count, 0) }));
  shards.sort((a, b) => b.count - a.count);
  const parts = Array.from({ length: workers }, () => ({ segments: [] as SegmentEntry[], count: 0 }));
  for (const shard of shards) {
    const lightest = parts.reduce((min, part) => (part.count < min.count ? part : min));
    lightest.segments.push(...shard.segments);
    lightest.count += shard.count;
  }
  return parts.map((part) => part.segments).filter((segments, i) => i === 0 || segments.length > 0);
}

/** Shard numbers 0 … shards − 1 dealt round the workers (a bare export: its sizes are not known before it is read). */
function dealShardNumbers(shards: number, workers: number): number[][] {
  checkWorkers(workers);
  const parts = Array.from({ length: Math.min(workers, shards) }, () => [] as number[]);
  for (let shard = 0; shard < shards; shard++) parts[shard % parts.length]!.push(shard);
  return parts;
}

function checkWorkers(workers: number): void {
  if (!Number.isInteger(workers) || workers < 1) throw new FoldlineError('invalid_option', `workers must be a positive integer, not ${workers}`);
}

function runWorker(data: RebuildWorkerData, onBad: (part: BadPart) => void): Promise<Array<[string, Uint8Array]>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./rebuildWorkerThread.boot.js', import.meta.url), { workerData: data });
    let settled = false;
    worker.on('message', (message: FromRebuildWorker) => {
      if (message.type === 'bad') return onBad(message.bad);
      settled = true;
      if (message.type === 'states') resolve(message.namespaces);
      else reject(new FoldlineError(message.code ?? 'rebuild_failed', message.message));
      void worker.terminate();
    });
    worker.on('error', (error) => {
      settled = true;
      reject(new FoldlineError('rebuild_failed', `a rebuild worker failed: ${error.message}`, { cause: error }));
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new FoldlineError('rebuild_failed', `a rebuild worker exited (code ${code}) before handing its states back`));
    });
  });
}
