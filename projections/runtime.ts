import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { frontier, frontierCovers, mergeFrontiers, positionKey, type Frontier } from '../crdt/index.js';
import { FoldlineError } from '../ledger/errors.js';
import type { Ledger } from '../ledger/types.js';
import { BatchFold, type Progress } from './batchFold.js';
import { entityId } from './entityId.js';
import { LruCache } from './lruCache.js';
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
   * Event identities remembered to drop re-deliveries at new positions (at-least-once
   * sources). Default 10,000. The window is written with every checkpoint, so 0 suits a
   * ledger that already refuses a repeated identity, as the embedded one does.
   */
  idWindow?: number;
  /** Committed entity records kept decoded. Default 10,000. */
  cacheSize?: number;
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
  record: EntityRecord<S>;
}

/** What one folded batch changed. Shared with every listener: read, do not modify. */
export interface CommitChange {
  entities: EntityChange[];
  frontier: Frontier;
}

export type CommitListener = (change: CommitChange) => void;

let defaultLogger: Logger | undefined;

interface ShardRef {
  stream: string;
  shard: number;
  position: string;
}

/**
 * The fold loop of one consumer: reads every shard its projections use from the
 * checkpoint on, a batch from each shard in turn so a busy shard cannot starve the others,
 * folds the records into per-entity state and commits the entities, the checkpoint and
 * any dead letters of the batch in one `store.commit`. A restart resumes at the
 * checkpoint; the frontiers and the id window keep anything from being folded twice.
 */
export class ProjectionRuntime {
  private readonly consumer: string;
  private readonly ledger: Ledger;
  private readonly store: StateStore;
  private readonly shards: ShardRef[];
  private readonly routing: ProjectionRouting;
  private readonly batchSize: number;
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
  /** Records of the batch being committed, in case the cache evicts them before the commit lands. */
  private uncommitted = new Map<string, EntityRecord>();
  /** At least `committed`: folded, published, its commit maybe still in progress. */
  private folded: Frontier = frontier();
  private readonly listeners = new Set<CommitListener>();
  /** Batches run one at a time, whoever asks (the tail loop, runUntil). */
  private batchLock: Promise<unknown> = Promise.resolve();
  private tail: { loop: Promise<void>; stop: AbortController } | undefined;

  constructor(options: ProjectionRuntimeOptions) {
    this.consumer = options.consumer;
    this.ledger = options.ledger;
    this.store = options.store;
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? 2000);
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
    this.routing = new ProjectionRouting(options.projections);
    const streams = new Set(this.routing.streams());
    this.shards = this.ledger.streams
      .filter((spec) => streams.has(spec.name))
      .flatMap((spec) => Array.from({ length: spec.shards }, (_, shard) => ({ stream: spec.name, shard, position: positionKey(spec.name, shard) })));
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
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An entity's committed record, from the cache when it is there. Read it, do not modify it. */
  async get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    const id = entityId(namespace, key);
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

  /** The newest record held in memory: cached, or published by a batch whose commit is in flight. */
  private known(id: string): EntityRecord | undefined {
    return this.cache.get(id) ?? this.uncommitted.get(id);
  }


  /** Folds until every position of `target` on this consumer's shards is committed. */
  async runUntil(target: Frontier, signal?: AbortSignal): Promise<void> {
    const wanted = frontier();
    for (const { position } of this.shards) if (target[position] !== undefined) wanted[position] = target[position];
    while (!frontierCovers(this.committed, wanted)) {
      signal?.throwIfAborted();
      const progressed = await this.exclusive(() => this.runBatch());
      if (!progressed && !frontierCovers(this.committed, wanted)) await this.waitForAppend(signal);
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

  /** Stops tailing once the batch in progress is committed. */
  async stop(): Promise<void> {
    const tail = this.tail;
    if (!tail) return;
    tail.stop.abort();
    await tail.loop;
    this.tail = undefined;
  }

  private async tailLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let progressed: boolean;
      try {
        progressed = await this.exclusive(() => this.runBatch());
      } catch (error) {
        this.logger.error({ err: error, consumer: this.consumer }, 'projection batch failed; retrying');
        await sleep(this.retryDelayMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (!progressed) await this.waitForAppend(signal);
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.batchLock.then(work);
    this.batchLock = result.catch(() => undefined);
    return result;
  }

  /** One batch: read, fold, commit. False when there was nothing to read. */
  private async runBatch(): Promise<boolean> {
    const started = performance.now();
    try {
      const progress = (this.progress ??= await this.loadProgress());
      const reads = await Promise.all(
        this.shards.map(({ stream, shard, position }) => this.ledger.read(stream, shard, progress.frontier[position] ?? null, this.batchSize)),
      );
      const records = reads.flat();
      if (records.length === 0) return false;
      const batch = new BatchFold(this.consumer, (stream, type) => this.routing.projectionsFor(stream, type), (definition, keys, committed) => this.loadWorking(definition, keys, committed), this.now);
      await batch.fold(records, progress);
      const entities = batch.changes();
      const checkpoint = { frontier: mergeFrontiers(progress.frontier), recentIds: progress.recent.toArray() };
      const reloaded = batch.reloadedUnchanged();
      this.uncommitted = new Map();
      for (const { namespace, key, record } of [...entities, ...reloaded]) {
        this.cache.set(entityId(namespace, key), record);
        this.uncommitted.set(entityId(namespace, key), record);
      }
      // Listeners hear of the batch before its commit: effect after cause need not wait for a disk.
      this.folded = checkpoint.frontier;
      this.publish({ entities: [...entities, ...reloaded], frontier: mergeFrontiers(checkpoint.frontier) });
      await this.store.commit({ consumer: this.consumer, entities, checkpoint, deadLetters: batch.deadLetters });
      this.committed = checkpoint.frontier;
      this.uncommitted = new Map();
      this.metrics?.batch(records.length, batch.deadLetters.length, (performance.now() - started) / 1000);
      return true;
    } catch (error) {
      // The store may or may not hold the batch: start again from what it holds.
      this.progress = undefined;
      this.cache.clear();
      this.uncommitted = new Map();
      // What memory held of the batch is gone: claim only what the store is known to hold.
      this.folded = this.committed;
      this.cacheGeneration++;
      throw error;
    }
  }

  private async loadProgress(): Promise<Progress> {
    const checkpoint = await this.store.checkpoint(this.consumer);
    this.committed = mergeFrontiers(checkpoint?.frontier ?? frontier());
    return { frontier: mergeFrontiers(this.committed), recent: new RecentIds(this.idWindow, checkpoint?.recentIds) };
  }

  /**
   * Records to fold into. Cached ones are folded in place: a batch that fails to commit
   * clears the cache, so a change never outlives its batch unless committed. Records
   * handed to commit listeners are these same objects, so a listener may see them advance
   * past the commit it was told of, never fall back.
   */
  private async loadWorking(definition: ProjectionDefinition, keys: readonly string[], committed: boolean): Promise<EntityRecord[]> {
    const records: Array<EntityRecord | undefined> = committed ? [] : keys.map((key) => this.cache.get(entityId(definition.name, key)));
    const missing = keys.filter((_, i) => records[i] === undefined);
    const stored = missing.length > 0 ? await this.store.getMany(definition.name, missing) : [];
    let next = 0;
    return keys.map((key, i) => records[i] ?? stored[next++] ?? { state: definition.initial(key), frontier: frontier() });
  }

  private publish(change: CommitChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ err: error, consumer: this.consumer }, 'commit listener failed');
      }
    }
  }

  /** Resolves when any shard has a record past the committed frontier, or `signal` aborts. */
  private async waitForAppend(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const waiting = new AbortController();
    // One listener per shard is expected here, not a leak.
    setMaxListeners(this.shards.length + 2, waiting.signal);
    const abort = (): void => waiting.abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await Promise.race([
        new Promise((resolve) => waiting.signal.addEventListener('abort', resolve, { once: true })),
        ...this.shards.map(({ stream, shard, position }) => this.ledger.waitForAppend(stream, shard, this.committed[position] ?? null, waiting.signal)),
      ]);
    } finally {
      waiting.abort();
      signal?.removeEventListener('abort', abort);
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new FoldlineError('invalid_option', `${name} must be a positive integer, not ${value}`);
  return value;
}
