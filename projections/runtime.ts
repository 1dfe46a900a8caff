import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { FoldlineError } from '../base/errors.js';
import { LruCache } from '../base/lruCache.js';
import { pairKey } from '../base/pairKey.js';
import { frontier, frontierCovers, frontierHas, mergeFrontiers, parsePositionKey, positionKey, type Frontier } from '../crdt/index.js';
import type { Ledger, LedgerRecord } from '../ledger/types.js';
import { CommitWindow, type Progress } from './commitWindow.js';
import { RuntimeMetrics } from './metrics.js';
import { RecentIds } from './recentIds.js';
import { ProjectionRouting } from './routing.js';
import type { EntityRecord, ProjectionDefinition, StateStore } from './types.js';

export interface ProjectionRuntimeOptions {
  /** Names the checkpoint and the dead letters; one runtime per consumer at a time. */
  consumer: string;
  ledger: Ledger;
  store: StateStore;
  projections: readonly ProjectionDefinition[];
  /** Records read from each shard per batch. Default 2,000. */
  batchSize?: number;
  /**
   * How long folded batches may wait to share one store commit, ms. Listeners hear of each
   * batch as it is folded; the store gets the window's changed entities once, however many
   * batches changed them, so a hot entity is encoded and written once per window rather
   * than once per batch. Its records are durable in the ledger meanwhile: a crash folds
   * them again. Default 500; 0 commits every batch.
   */
  commitIntervalMs?: number;
  /** Changed entities a window holds before it is committed whatever its age. Default 10,000. */
  commitEntities?: number;
  /**
   * Awaited before each batch is read: a consumer of the folded batches that falls behind
   * (a thread they are posted to) holds the fold back.
   */
  pace?: () => Promise<void> | void;
  /**
   * Event identities remembered to drop re-deliveries at new positions (at-least-once
   * sources). Default 10,000. The window is written with every checkpoint, so 0 suits a
   * ledger that already refuses a repeated identity, as the embedded one does.
   */
  idWindow?: number;
  /** Committed entity records kept decoded. Default 10,000. */
  cacheSize?: number;
  /**
   * The positions (`stream/shard`) this runtime folds, when it folds only some of its
   * streams' shards: one of several processes that split them (leases). Default: all.
   */
  positions?: readonly string[];
  /** Pause of the tail loop after a failed batch. Default 1,000 ms. */
  retryDelayMs?: number;
  logger?: Logger;
  now?: () => Date;
  /** Where to register this consumer's Prometheus metrics (batches, records, dead letters, lag). */
  registry?: Registry;
}

export interface EntityChange<S = unknown> {
  namespace: string;
  key: string;
  /**
   * The entity's new record. A source that does not carry every record across (a fold
   * worker sends those its reader asked for) leaves it out: read the entity again.
   */
  record?: EntityRecord<S>;
  /** The W3C trace of the last event of the batch folded into it that came with one. */
  traceparent?: string;
}

/**
 * What one batch changed, told once it is folded (its records durable in the ledger), before
 * the store commit that stores it. Shared with every listener: read, do not modify.
 */
export interface FoldedBatch {
  entities: EntityChange[];
  frontier: Frontier;
}

/** A batch this runtime folded: every changed entity's record is there. */
export interface FoldedBatchWithRecords extends FoldedBatch {
  entities: Array<EntityChange & Required<Pick<EntityChange, 'record'>>>;
}

/** Told of each batch once it is folded, before its store commit. */
export type FoldedListener = (batch: FoldedBatchWithRecords) => void;
/** Told the checkpoint of each store commit once it has landed. */
export type StoredListener = (frontier: Frontier) => void;

let defaultLogger: Logger | undefined;

/** A seq past any a ledger gives: a frontier holding it for a shard waits for no append to it. */
const beyondEverySeq = '9'.repeat(80);

interface ShardRef {
  stream: string;
  shard: number;
  position: string;
}

/**
 * The fold loop of one consumer: reads every shard its projections use from the
 * checkpoint on, a batch from each shard in turn so a busy shard cannot starve the others,
 * folds the records into per-entity state, tells listeners, and commits the entities, the
 * checkpoint and any dead letters of a window of batches in one `store.commit`. A restart
 * resumes at the checkpoint; the frontiers and the id window keep anything from being
 * folded twice.
 */
export class ProjectionRuntime {
  private readonly consumer: string;
  private readonly ledger: Ledger;
  private readonly store: StateStore;
  private readonly shards: ShardRef[];
  /** The shards of its streams that other processes fold: appends to them do not wake this one. */
  private readonly othersShards: string[];
  /** The streams of `shards`. */
  private readonly streams: string[];
  /** The names of the projections folded, which every checkpoint lists. */
  private readonly projectionNames: string[];
  private readonly routing: ProjectionRouting;
  private readonly batchSize: number;
  private readonly commitIntervalMs: number;
  private readonly commitEntities: number;
  private readonly pace: (() => Promise<void> | void) | undefined;
  private readonly idWindow: number;
  private readonly retryDelayMs: number;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly metrics: RuntimeMetrics | undefined;
  /** Committed records, folded in place by the next batch (see loadWorking). */
  private readonly cache: LruCache<string, EntityRecord>;
  /** Bumped whenever the cache may lag the store, so a slow read does not cache stale state. */
  private cacheGeneration = 0;
  /** Working progress; undefined until loaded, and again after a failed batch. */
  private progress: Progress | undefined;
  private committed: Frontier = frontier();
  /** The batches folded since the last commit; undefined when there are none. */
  private window: { fold: CommitWindow; opened: number } | undefined;
  /** Records the open window (or the commit in flight) changed, in case the cache evicts them before they are stored. */
  private uncommitted = new Map<string, EntityRecord>();
  /** At least `committed`: folded, published, maybe not committed yet. */
  private folded: Frontier = frontier();
  private readonly foldedListeners = new Set<FoldedListener>();
  private readonly storedListeners = new Set<StoredListener>();
  /** Batches and commits run one at a time, whoever asks (the tail loop, runUntil). */
  private batchLock: Promise<unknown> = Promise.resolve();
  private tail: { loop: Promise<void>; stop: AbortController } | undefined;
  /** The last batch read every shard up to the head it saw: another now would most likely find nothing. */
  private readToHead = false;

  constructor(options: ProjectionRuntimeOptions) {
    this.consumer = options.consumer;
    this.ledger = options.ledger;
    this.store = options.store;
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? 2000);
    this.commitIntervalMs = options.commitIntervalMs ?? 500;
    if (!(this.commitIntervalMs >= 0)) throw new FoldlineError('invalid_option', `commitIntervalMs must be 0 or more, not ${this.commitIntervalMs}`);
    this.commitEntities = positiveInteger('commitEntities', options.commitEntities ?? 10_000);
    this.pace = options.pace;
    this.idWindow = options.idWindow ?? 10_000;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.logger = options.logger ?? (defaultLogger ??= pino({ name: 'foldline.projections' }));
    this.now = options.now ?? (() => new Date());
    this.cache = new LruCache(options.cacheSize ?? 10_000);
    this.metrics = options.registry && new RuntimeMetrics(options.registry, this.consumer, async () => ({ head: await this.ledger.head(), folded: this.frontier() }));

    const names = new Set<string>();
    for (const definition of options.projections) {
      if (names.has(definition.name)) throw new FoldlineError('duplicate_projection', `two projections are named ${JSON.stringify(definition.name)}`);
      if (definition.name === '' || definition.name.includes('\u0000')) throw new FoldlineError('invalid_projection', `a projection name must be non-empty text without NUL`);
      names.add(definition.name);
      for (const stream of definition.streams) {
        if (!this.ledger.streams.some((spec) => spec.name === stream)) {
          throw new FoldlineError('unknown_stream', `projection ${JSON.stringify(definition.name)} reads stream ${JSON.stringify(stream)}, which the ledger does not have`);
        }
      }
    }
    this.projectionNames = [...names];
    this.routing = new ProjectionRouting(options.projections);
    const streams = new Set(this.routing.streams());
    this.streams = this.ledger.streams.filter((spec) => streams.has(spec.name)).map((spec) => spec.name);
    const owned = options.positions && new Set(options.positions);
    const all = this.ledger.streams
      .filter((spec) => streams.has(spec.name))
      .flatMap((spec) => Array.from({ length: spec.shards }, (_, shard) => ({ stream: spec.name, shard, position: positionKey(spec.name, shard) })));
    this.shards = all.filter(({ position }) => !owned || owned.has(position));
    this.othersShards = all.filter(({ position }) => owned && !owned.has(position)).map(({ position }) => position);
  }

  /**
   * The positions folded so far (empty until the checkpoint is loaded by a first batch).
   * A batch counts once folded, before its commit completes: its records are durable in
   * the ledger, so should the commit fail, folding them again gives the same states.
   */
  frontier(): Frontier {
    return mergeFrontiers(this.folded, this.committed);
  }

  /** Calls `listener` after each folded batch, before its commit completes; returns the unsubscribe function. */
  onFolded(listener: FoldedListener): () => void {
    this.foldedListeners.add(listener);
    return () => this.foldedListeners.delete(listener);
  }

  /** Calls `listener` after each store commit has landed, with its checkpoint; returns the unsubscribe function. */
  onStored(listener: StoredListener): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  /** An entity's newest record, from memory when it is there. Read it, do not modify it. */
  async get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    const id = pairKey(namespace, key);
    const known = this.known(id);
    if (known) return known as EntityRecord<S>;
    const generation = this.cacheGeneration;
    const record = await this.store.get<S>(namespace, key);
    // A batch may have folded this entity while the store was read: its record is newer.
    const newer = this.known(id);
    if (newer) return newer as EntityRecord<S>;
    if (record && generation === this.cacheGeneration) this.cache.set(id, record);
    return record;
  }

  /** The newest record held in memory: cached, or folded by a batch not yet stored. */
  private known(id: string): EntityRecord | undefined {
    return this.cache.get(id) ?? this.uncommitted.get(id);
  }

  /** Folds until every position of `target` on this consumer's shards is committed. */
  async runUntil(target: Frontier, signal?: AbortSignal): Promise<void> {
    const wanted = frontier();
    for (const { position } of this.shards) if (target[position] !== undefined) wanted[position] = target[position];
    while (!frontierCovers(this.committed, wanted)) {
      signal?.throwIfAborted();
      // Folded that far already: only the open window's commit is missing.
      if (frontierCovers(this.frontier(), wanted)) {
        await this.exclusive(() => this.commitWindow());
        continue;
      }
      const progressed = await this.exclusive(() => this.runBatch());
      if (!progressed && !frontierCovers(this.frontier(), wanted)) await this.waitForAppend(signal);
    }
  }

  /** Folds until everything in the ledger when called is committed. */
  async catchUp(signal?: AbortSignal): Promise<void> {
    await this.runUntil(await this.ledger.head(), signal);
  }

  /** Starts tailing the ledger in the background. */
  start(): void {
    if (this.tail) return;
    const stop = new AbortController();
    this.tail = { stop, loop: this.tailLoop(stop.signal) };
  }

  /** Stops tailing once the batch in progress and the batches folded before it are committed. */
  async stop(): Promise<void> {
    const tail = this.tail;
    if (!tail) return;
    tail.stop.abort();
    await tail.loop;
    this.tail = undefined;
  }

  private async tailLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const progressed = await this.retrying(() => this.runBatch(), signal);
      // A batch short of the head goes on at once; one that reached it waits for the next
      // append (which returns at once if one came meanwhile) rather than reading nothing.
      if (progressed === undefined || (progressed && !this.readToHead)) continue;
      // Caught up: the open window waits for more batches until it is due, not longer.
      const due = this.window && this.window.opened + this.commitIntervalMs - performance.now();
      if (due === undefined) await this.waitForAppend(signal);
      else if (due <= 0 || !(await this.waitForAppend(signal, due))) await this.retrying(() => this.commitWindow(), signal);
    }
    await this.retrying(() => this.commitWindow(), new AbortController().signal, 'final commit');
  }

  /** Runs one step under the batch lock; a failure is logged and waited out, then the step answers undefined. */
  private async retrying<T>(step: () => Promise<T>, signal: AbortSignal, what = 'projection batch'): Promise<T | undefined> {
    try {
      return await this.exclusive(step);
    } catch (error) {
      this.logger.error({ err: error, consumer: this.consumer }, `${what} failed; retrying`);
      await sleep(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
      return undefined;
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.batchLock.then(work);
    this.batchLock = result.catch(() => undefined);
    return result;
  }

  /** One batch: read, fold, publish, and commit the window when it is due. False when there was nothing to read. */
  private async runBatch(): Promise<boolean> {
    const started = performance.now();
    try {
      const progress = (this.progress ??= await this.loadProgress());
      await this.pace?.();
      // Only the shards the head shows with new records: at a low rate most have none.
      const head = await this.ledger.head();
      const due = this.shards.filter(({ position }) => head[position] !== undefined && !frontierHas(progress.frontier, position, head[position]));
      if (due.length === 0) return false;
      const reads = await Promise.all(due.map(({ stream, shard, position }) => this.ledger.read(stream, shard, progress.frontier[position] ?? null, this.batchSize)));
      this.readToHead = reads.every((read, i) => read.at(-1)?.seq === head[due[i]!.position]);
      const records = reads.flat();
      if (records.length === 0) return false;
      const window = (this.window ??= { fold: this.openWindow(), opened: started });
      const letters = window.fold.deadLetters.length;
      const changes = await window.fold.fold(records, progress);
      for (const { namespace, key, record } of changes) {
        const id = pairKey(namespace, key);
        this.cache.set(id, record);
        this.uncommitted.set(id, record);
      }
      // Listeners hear of the batch before its commit: effect after cause need not wait for a disk.
      this.folded = mergeFrontiers(progress.frontier);
      this.publishFolded({ entities: changes, frontier: this.folded });
      this.metrics?.batch(records.length, window.fold.deadLetters.length - letters, (performance.now() - started) / 1000);
      if (window.fold.changed >= this.commitEntities || performance.now() - window.opened >= this.commitIntervalMs) await this.commitWindow();
      return true;
    } catch (error) {
      this.forgetUncommitted();
      throw error;
    }
  }

  /** Stores what the open window changed, with the checkpoint and dead letters, in one commit. */
  private async commitWindow(): Promise<void> {
    const window = this.window;
    const progress = this.progress;
    if (!window || !progress) return;
    const started = performance.now();
    const checkpoint = { frontier: mergeFrontiers(progress.frontier), recentIds: progress.recent.toArray(), projections: this.projectionNames };
    try {
      await this.store.commit({ consumer: this.consumer, entities: window.fold.changes(), checkpoint, deadLetters: window.fold.deadLetters });
    } catch (error) {
      this.forgetUncommitted();
      throw error;
    }
    this.window = undefined;
    this.committed = checkpoint.frontier;
    this.uncommitted = new Map();
    this.metrics?.commit(window.fold.changed, (performance.now() - started) / 1000);
    for (const listener of this.storedListeners) {
      try {
        listener(checkpoint.frontier);
      } catch (error) {
        this.logger.error({ err: error, consumer: this.consumer }, 'stored listener failed');
      }
    }
  }

  private openWindow(): CommitWindow {
    return new CommitWindow(
      this.consumer,
      (stream, type) => this.routing.projectionsFor(stream, type),
      (definition, keys, committed) => this.loadWorking(definition, keys, committed),
      (position, seq) => this.readRecord(position, seq),
      this.now,
    );
  }

  /** One record read again from the ledger (to fold a window's records again after a rejected one). */
  private async readRecord(position: string, seq: string): Promise<LedgerRecord> {
    const { stream, shard } = parsePositionKey(position);
    const [record] = await this.ledger.read(stream, shard, seq === '0' ? null : (BigInt(seq) - 1n).toString(), 1);
    if (record?.seq !== seq) throw new FoldlineError('corrupt', `the ledger no longer holds ${position}/${seq}, which this window folded`);
    return record;
  }

  /** After a failure the store may or may not hold the window: start again from what it holds. */
  private forgetUncommitted(): void {
    this.progress = undefined;
    this.window = undefined;
    this.cache.clear();
    this.uncommitted = new Map();
    // What memory held of the window is gone: claim only what the store is known to hold.
    this.folded = this.committed;
    this.cacheGeneration++;
  }

  private async loadProgress(): Promise<Progress> {
    const checkpoint = await this.store.checkpoint(this.consumer);
    this.committed = mergeFrontiers(checkpoint?.frontier ?? frontier());
    return { frontier: mergeFrontiers(this.committed), recent: new RecentIds(this.idWindow, checkpoint?.recentIds) };
  }

  /**
   * Records to fold into. Cached ones are folded in place: a batch that fails to commit
   * clears the cache, so a change never outlives its batch unless committed. Records
   * handed to folded listeners are these same objects, so a listener may see them advance
   * past the batch it was told of, never fall back.
   */
  private async loadWorking(definition: ProjectionDefinition, keys: readonly string[], committed: boolean): Promise<EntityRecord[]> {
    const records: Array<EntityRecord | undefined> = committed ? [] : keys.map((key) => this.cache.get(pairKey(definition.name, key)));
    const missing = keys.filter((_, i) => records[i] === undefined);
    const stored = missing.length > 0 ? await this.store.getMany(definition.name, missing) : [];
    let next = 0;
    return keys.map((key, i) => records[i] ?? stored[next++] ?? { state: definition.initial(key), frontier: frontier() });
  }

  private publishFolded(batch: FoldedBatchWithRecords): void {
    for (const listener of this.foldedListeners) {
      try {
        listener(batch);
      } catch (error) {
        this.logger.error({ err: error, consumer: this.consumer }, 'folded listener failed');
      }
    }
  }

  /**
   * True when any shard has a record past the folded frontier; false when `timeoutMs`
   * passed first or `signal` aborted.
   */
  private async waitForAppend(signal: AbortSignal = never, timeoutMs?: number): Promise<boolean> {
    if (signal.aborted) return false;
    const folded = this.progress?.frontier ?? this.committed;
    const after = this.othersShards.length === 0 ? folded : { ...folded, ...Object.fromEntries(this.othersShards.map((position) => [position, beyondEverySeq])) };
    const appended = this.ledger.waitForAppend(this.streams, after, signal).then(() => !signal.aborted);
    if (timeoutMs === undefined) return appended;
    // A wait that times out stays registered with the ledger until its next append (or the
    // stop) wakes it: at most one such per window, where an abort per wait would cost an
    // AbortController and its listeners every time.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([appended, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The signal of waits no caller can stop; any number of them may wait at once (concurrent runUntil). */
const never = new AbortController().signal;
setMaxListeners(0, never);

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new FoldlineError('invalid_option', `${name} must be a positive integer, not ${value}`);
  return value;
}
