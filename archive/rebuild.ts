import { Worker } from 'node:worker_threads';
import { FoldlineError } from '../base/errors.js';
import { compareSeq, decodeState, EncodedValue, frontier, parsePositionKey, positionKey, type Frontier } from '../crdt/index.js';
import type { StreamRouter } from '../ledger/types.js';
import type { DeadLetter, ProjectionDefinition, StateStore } from '../projections/types.js';
import type { FoldTopology } from '../projections/foldWorkerProtocol.js';
import { readManifest } from './archiver.js';
import { bareExportFiles } from './bareExport.js';
import { foldTask, type FoldTask } from './foldTask.js';
import type { RejectedRecord } from '../projections/rejectedRecord.js';
import { archiveEnd, recordCount, type Manifest, type SegmentEntry } from './manifest.js';
import type { FromRebuildWorker, HandoutRequest, RebuildWorkerData } from './rebuildProtocol.js';
import type { BadPart } from './segmentFold.js';
import { SortedHandout, type Handout } from './sortedHandout.js';
import { boundWorkerHeaps } from './workerHeaps.js';
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
  /**
   * A worker holds an entity's state as its encoding once it has folded this many records
   * without it, and decodes it when it comes back: memory for the recent states and the
   * encodings of the rest. Default 65,536 (tests: a few, to encode and decode often).
   */
  encodeIdleAfter?: number;
  /** Entities a part hands over at once after folding. Default 4,096 (tests: a few, to cross many). */
  handoutEntities?: number;
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
  const handoutEntities = options.handoutEntities ?? 4_096;
  const encodeIdleAfter = options.encodeIdleAfter ?? 65_536;
  let folded = 0;
  const end = manifest ? archiveEnd(manifest) : frontier();
  let entities: number;
  if (options.threads === false) {
    const parts: FoldedPart[] = [];
    // The check the workers make, from the module they import.
    const { validate } = (await import(options.topology)) as FoldTopology;
    for (const task of tasks) {
      const { states, rejected } = await foldTask(task, {
        storage,
        projections: options.projections,
        route: options.route,
        validate,
        skipBad: options.skipBad ?? false,
        encodeIdleAfter,
        onFolded: (records) => {
          folded += records;
          options.onProgress?.(folded, total);
        },
        onBad,
      });
      const handout = new SortedHandout(states, options.projections);
      parts.push({ counts: new Map(handout.counts()), rejected, next: async ({ name, entities }) => handout.next(name, entities) });
    }
    entities = await storeStates(options.store, options.consumer, options.projections, parts, end, handoutEntities);
  } else {
    const counts = new Int32Array(new SharedArrayBuffer(4 * tasks.length));
    const count = (): number => counts.reduce((a, b) => a + b, 0);
    const report = setInterval(() => options.onProgress?.(count(), total), progressMs);
    boundWorkerHeaps();
    const workers = tasks.map(
      (task, slot) =>
        new RebuildWorker({ topology: options.topology, projections: options.projections.map((d) => d.name), storage: options.storage, task, skipBad: options.skipBad ?? false, encodeIdleAfter, folded: counts.buffer as SharedArrayBuffer, slot }, onBad),
    );
    try {
      await Promise.all(workers.map((worker) => worker.folded));
      clearInterval(report);
      folded = count();
      options.onProgress?.(folded, total);
      entities = await storeStates(options.store, options.consumer, options.projections, workers, end, handoutEntities);
    } finally {
      clearInterval(report);
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  }
  return { records: manifest ? total : folded, entities, checkpoint: end, bare: !manifest, bad };
}

/** A part's folded states, handed out a projection at a time in key order (archive/sortedHandout.ts). */
interface FoldedPart {
  /** Entities held per projection. */
  readonly counts: ReadonlyMap<string, number>;
  /** The records its projections threw on: dead letters. */
  readonly rejected: readonly RejectedRecord[];
  /** The projection's next entities in key order; fewer than asked at its end. */
  next(request: HandoutRequest): Promise<Handout>;
}

/** Reads one part's entities of a projection in key order, asking for the next chunk as soon as it has one. */
class PartRun {
  private handout: Handout = { keys: [], encodings: new Uint8Array(0), ends: new Uint32Array(0) };
  private at = 0;
  private asked: Promise<Handout> | undefined;

  constructor(
    private readonly part: FoldedPart,
    private readonly name: string,
    private readonly chunk: number,
  ) {
    this.ask();
  }

  /** The key at the run's head, or undefined at its end: call `fill` first when `empty`. */
  get key(): string | undefined {
    return this.handout.keys[this.at];
  }

  /** The encoding of the state at the run's head. */
  get encoding(): Uint8Array {
    const { encodings, ends } = this.handout;
    return encodings.subarray(this.at === 0 ? 0 : ends[this.at - 1], ends[this.at]);
  }

  get empty(): boolean {
    return this.at >= this.handout.keys.length && this.asked !== undefined;
  }

  advance(): void {
    this.at++;
  }

  async fill(): Promise<void> {
    this.handout = await this.asked!;
    this.at = 0;
    if (this.handout.keys.length === this.chunk) this.ask();
    else this.asked = undefined;
  }

  private ask(): void {
    this.asked = this.part.next({ name: this.name, entities: this.chunk });
    // Awaited by `fill`, unless the rebuild fails first.
    this.asked.catch(() => undefined);
  }
}

/**
 * Writes the states, each with the archive's end over its projection's streams as its
 * frontier (it reflects every archived record that concerns it), in commits of moderate
 * size; the checkpoint comes with the last. Until then the store's checkpoint is empty,
 * and a runtime that started from it would skip, by the entity frontiers, what is stored.
 * The parts hand their states over in key order, a chunk at a time, merged as they come
 * (CRDT merge where two parts folded one entity): this thread holds a chunk per part, and
 * the store gets its keys in order, which keeps its writes local. A state only one part
 * holds goes to the store as the encoding the part sent, never decoded here.
 */
async function storeStates(store: StateStore, consumer: string, projections: readonly ProjectionDefinition[], parts: readonly FoldedPart[], end: Frontier, chunk: number): Promise<number> {
  let batch: Array<{ namespace: string; key: string; record: { state: unknown; frontier: Frontier } }> = [];
  let stored = 0;
  const at = new Date().toISOString();
  const deadLetters: DeadLetter[] = parts.flatMap((part) => part.rejected.map((rejected) => ({ consumer, ...rejected, at })));
  const names = projections.map((definition) => definition.name);
  const commit = async (checkpoint: Frontier, last = false): Promise<void> => {
    await store.commit({ consumer, entities: batch, checkpoint: { frontier: checkpoint, recentIds: [], projections: names }, deadLetters: last ? deadLetters : [] });
    stored += batch.length;
    batch = [];
  };
  for (const definition of projections) {
    const streams = new Set(definition.streams);
    const entityFrontier = frontier();
    for (const position of Object.keys(end)) if (streams.has(parsePositionKey(position).stream)) entityFrontier[position] = end[position]!;
    const runs = parts.filter((part) => (part.counts.get(definition.name) ?? 0) > 0).map((part) => new PartRun(part, definition.name, chunk));
    for (;;) {
      let least: string | undefined;
      let holders = 0;
      for (const run of runs) {
        if (run.empty) await run.fill();
        const key = run.key;
        if (key === undefined || (least !== undefined && key > least)) continue;
        holders = key === least ? holders + 1 : 1;
        least = key;
      }
      if (least === undefined) break;
      let state: unknown;
      for (const run of runs) {
        if (run.key !== least) continue;
        if (holders === 1) state = new EncodedValue(run.encoding);
        else state = state === undefined ? decodeState(run.encoding) : definition.merge(state, decodeState(run.encoding));
        run.advance();
      }
      batch.push({ namespace: definition.name, key: least, record: { state, frontier: entityFrontier } });
      if (batch.length >= commitEntities) await commit(frontier());
    }
  }
  // With the checkpoint, as the live runtime keeps them: what it passed over is never half told.
  await commit(end, true);
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

/** A worker thread folding one part; once folded, it hands its states out as asked. */
class RebuildWorker implements FoldedPart {
  /** Resolves with the entities held per projection once the part is folded. */
  readonly folded: Promise<ReadonlyMap<string, number>>;
  counts: ReadonlyMap<string, number> = new Map();
  rejected: readonly RejectedRecord[] = [];
  private readonly worker: Worker;
  /** Handout requests sent, answered in order. */
  private readonly waiting: Array<{ resolve: (handout: Handout) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;

  constructor(data: RebuildWorkerData, onBad: (part: BadPart) => void) {
    this.worker = new Worker(new URL('./rebuildWorkerThread.boot.js', import.meta.url), { workerData: data });
    this.folded = new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        this.failure ??= error;
        reject(error);
        for (const waiting of this.waiting.splice(0)) waiting.reject(error);
      };
      this.worker.on('message', (message: FromRebuildWorker) => {
        switch (message.type) {
          case 'bad':
            return onBad(message.bad);
          case 'folded':
            this.rejected = message.rejected;
            return resolve((this.counts = new Map(message.counts)));
          case 'handout':
            return this.waiting.shift()?.resolve(message.handout);
          case 'failed':
            fail(new FoldlineError(message.code ?? 'rebuild_failed', message.message));
            return void this.worker.terminate();
        }
      });
      this.worker.on('error', (error) => fail(new FoldlineError('rebuild_failed', `a rebuild worker failed: ${error.message}`, { cause: error })));
      this.worker.on('exit', (code) => fail(new FoldlineError('rebuild_failed', `a rebuild worker exited (code ${code}) before handing its states back`)));
    });
    // Awaited with the other workers'; one that fails after another has is not left unhandled.
    this.folded.catch(() => undefined);
  }

  next(request: HandoutRequest): Promise<Handout> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(request);
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
