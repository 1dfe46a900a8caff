import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { FoldlineError } from '../base/errors.js';
import { pairKey } from '../base/pairKey.js';
import { currentThreadId, threadCpu } from '../base/threadCpu.js';
import { decodeState, frontier, frontierCovers, frontiersEqual, mergeFrontiers, positionKey, type Frontier } from '../crdt/index.js';
import type { DurablePublisher } from '../ledger/backend.js';
import type { Ledger } from '../ledger/types.js';
import type { FoldWorkerData, FromWorker, ToWorker } from './foldWorkerProtocol.js';
import type { EntityChange, FoldedBatch } from './runtime.js';
import { SharedHead } from './sharedHead.js';
import type { ReadRenewal } from './storeBackend.js';
import type { EntityRecord, StateStore } from './types.js';

export interface FoldWorkerOptions extends Omit<FoldWorkerData, 'logLevel' | 'reportCounts' | 'reportsInFlight' | 'head'> {
  /** Folded batches that may wait for this thread to take them in; default 4. */
  reportsInFlight?: number;
  /** The ledger the worker reads, as this thread writes it. */
  ledger: Ledger & Partial<DurablePublisher>;
  /**
   * The worker's reader learns of appends only from this thread (LedgerCapabilities
   * readerFollowsWriter): this thread then hands it each new durable head, with the blocks
   * of small appends, as the ledger tells of them (`onDurable`).
   */
  readerFollowsWriter: boolean;
  /** The worker's store, opened in this thread for reads. */
  store: StateStore & Partial<ReadRenewal>;
  logger: Logger;
  /** Young generation of the worker's heap, MiB: a fold allocates much short-lived data. */
  youngGenerationMb?: number;
  /** The worker died: nothing is folded any more. */
  onFatal: (error: Error) => void;
  /** Where to register this thread's gauge of waiting batch reports. */
  registry?: Registry;
}

/**
 * A projection runtime in a worker thread, seen from the thread that serves: the same
 * frontier, folded batches and entity reads as an in-process ProjectionRuntime, so that the
 * gateway's thread only parses, validates and appends while another core folds.
 *
 * Records cross only for the entities this thread watches (those read through `get`, until
 * released): a batch's change of any other entity names it without its record, so the
 * worker encodes nothing for entities no view holds. Entity reads: a record that came with
 * a change is held until the worker reports that batch stored; an entity changed without
 * its record is asked of the worker until then; any other comes from the store. Records
 * cross as encoded bytes and are decoded only when read.
 */
export class FoldWorker {
  private readonly worker: Worker;
  private readonly foldedListeners = new Set<(batch: FoldedBatch) => void>();
  private readonly storedListeners = new Set<(frontier: Frontier) => void>();
  /** Records that came with changes of batches not yet stored, by entity id, with the batch. */
  private readonly held = new Map<string, { batch: number; change: EntityChange }>();
  /** Entities batches not yet stored changed without their records, by id: the last such batch. */
  private readonly unstored = new Map<string, number>();
  /** Batches reported folded so far (they count from 1). */
  private batchesFolded = 0;
  /** Reads asked of the worker, by request: those of one event-loop turn go as one request. */
  private readonly reads = new Map<number, PendingRead[]>();
  private readQueue: PendingRead[] = [];
  /** Watch (true) or release (false) to tell the worker, the last word per entity id. */
  private readonly interest = new Map<string, boolean>();
  private current: Frontier = frontier();
  private readonly frontierWaiters = new Set<() => void>();
  private readonly metricsRequests = new Map<number, (text: string) => void>();
  private nextRequest = 0;
  /** Stopping on purpose: the worker's exit is then no failure to report. */
  private stopping = false;
  private readonly unwatchAppends: () => void;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  /** The ledger's durable head, published to a worker whose reader follows this thread's appends. */
  private readonly head: SharedHead | undefined;
  /** The worker's kernel thread id, once it told it. */
  private workerThread: number | undefined;
  /** Shared with the worker: batches reported, batches taken in (see FoldWorkerData). */
  private readonly reportCounts = new Int32Array(new SharedArrayBuffer(8));
  private started!: () => void;
  /** Resolves once the worker runs, its frontier reported (see `ready`). */
  private readonly running = new Promise<void>((resolve) => (this.started = resolve));

  constructor(private readonly options: FoldWorkerOptions) {
    const { ledger: _ledger, store: _store, readerFollowsWriter, logger, youngGenerationMb, onFatal: _onFatal, reportsInFlight = 4, registry, ...data } = options;
    // Fewer than one would stop the worker at its first batch.
    if (!Number.isInteger(reportsInFlight) || reportsInFlight < 1) {
      throw new FoldlineError('invalid_option', `reportsInFlight must be a positive integer, not ${reportsInFlight}`);
    }
    const positions = options.ledger.streams.flatMap(({ name, shards }) => Array.from({ length: shards }, (_, shard) => positionKey(name, shard)));
    this.head = readerFollowsWriter ? new SharedHead(positions) : undefined;
    const head = this.head;
    if (head && !options.ledger.onDurable) throw new FoldlineError('invalid_option', 'a ledger whose reader follows the writer must tell of its durable heads (onDurable)');
    // Told as each commit lands: the worker wakes with the blocks in hand, reading nothing back.
    this.unwatchAppends = head ? options.ledger.onDurable!((durable, blocks) => head.publish(durable, blocks)) : () => {};
    const workerData: FoldWorkerData = {
      ...data,
      logLevel: logger.level,
      reportCounts: this.reportCounts.buffer as SharedArrayBuffer,
      reportsInFlight,
      ...(this.head ? { head: { buffer: this.head.buffer, positions } } : {}),
    };
    this.worker = new Worker(new URL('./foldWorkerThread.boot.js', import.meta.url), {
      workerData,
      resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb ?? 64 },
    });
    if (registry) {
      // Which of the two threads is busy: both are in the process's CPU time.
      const serving = currentThreadId();
      const workerThread = (): number | undefined => this.workerThread;
      new Gauge({
        name: 'foldline_thread_cpu_seconds',
        help: 'CPU time of the serving thread and of the fold worker thread so far, by mode (user, system)',
        labelNames: ['thread', 'mode'],
        registers: [registry],
        collect() {
          for (const [thread, tid] of [['serving', serving], ['fold-worker', workerThread()]] as const) {
            const times = tid === undefined ? undefined : threadCpu(tid);
            if (!times) continue;
            this.set({ thread, mode: 'user' }, times.user);
            this.set({ thread, mode: 'system' }, times.system);
          }
        },
      });
      const reportsWaiting = (): number => this.reportsWaiting();
      new Gauge({
        name: 'foldline_fold_worker_reports_waiting',
        help: 'Folded batches the fold worker reported that the serving thread has not taken in yet',
        registers: [registry],
        collect() {
          this.set(reportsWaiting());
        },
      });
    }
    this.worker.on('message', (message: FromWorker) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.once('exit', (code) => this.fail(new FoldlineError('fold_worker_exited', `the fold worker exited with code ${code}`)));
  }

  /** Resolves once the worker has loaded and reported what the store holds; rejects if it failed first. */
  async ready(): Promise<void> {
    await Promise.race([this.running, this.exited]);
    if (this.failure) throw this.failure;
  }

  /** Everything folded so far: the same object while it does not change. */
  frontier(): Frontier {
    return this.current;
  }

  /** Calls `listener` after each batch the worker reports folded, before its store commit; returns the unsubscribe function. */
  onFolded(listener: (batch: FoldedBatch) => void): () => void {
    this.foldedListeners.add(listener);
    return () => this.foldedListeners.delete(listener);
  }

  /**
   * Calls `listener` after each store commit the worker reports landed (and once at start),
   * with its checkpoint; every batch reported folded before it is stored. Returns the unsubscribe function.
   */
  onStored(listener: (frontier: Frontier) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  /** The entity's record as folded so far; its later changes carry it, until released. */
  async get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    const id = pairKey(namespace, key);
    const held = this.held.get(id);
    if (held) return held.change.record as EntityRecord<S>;
    if (this.unstored.has(id)) return this.readFromWorker<S>(namespace, key);
    const before = this.batchesFolded;
    this.tellInterest(id, true);
    const record = await this.options.store.get<S>(namespace, key);
    // A batch told of while the store was read may have changed it after what the store holds.
    return this.batchesFolded === before ? record : this.readFromWorker<S>(namespace, key);
  }

  release(namespace: string, key: string): void {
    this.tellInterest(pairKey(namespace, key), false);
  }

  /** Resolves once everything in the ledger when called is folded and published (its store commit may still be landing). */
  async catchUp(): Promise<void> {
    const head = await this.options.ledger.head();
    while (!frontierCovers(this.current, head)) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => this.frontierWaiters.add(resolve));
    }
  }

  /** Batches the worker reported as folded that this thread has not taken in yet. */
  reportsWaiting(): number {
    return (Atomics.load(this.reportCounts, 0) - Atomics.load(this.reportCounts, 1)) | 0;
  }

  /** The worker's metrics in Prometheus text form. */
  metrics(): Promise<string> {
    if (this.failure) return Promise.resolve('');
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.metricsRequests.set(id, resolve);
      this.send({ type: 'metrics', id });
    });
  }

  /** Lets the batch in progress commit, then ends the worker. */
  async stop(): Promise<void> {
    this.unwatchAppends();
    this.stopping = true;
    if (!this.failure) this.send({ type: 'stop' });
    await this.exited;
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'folded': {
        // Taken in: the worker may fold and report another batch.
        Atomics.add(this.reportCounts, 1, 1);
        Atomics.notify(this.reportCounts, 1);
        const { batch } = message;
        this.batchesFolded = batch;
        const entities = message.entities.map((entity): EntityChange => {
          const id = pairKey(entity.namespace, entity.key);
          const trace = entity.traceparent === undefined ? {} : { traceparent: entity.traceparent };
          if (entity.record === undefined) {
            this.held.delete(id);
            this.unstored.set(id, batch);
            return { namespace: entity.namespace, key: entity.key, ...trace };
          }
          const change = lazyChange(entity.namespace, entity.key, entity.record, trace);
          this.unstored.delete(id);
          this.held.set(id, { batch, change });
          return change;
        });
        this.advance(message.frontier);
        return this.publishFolded({ entities, frontier: this.current });
      }
      case 'stored': {
        const { batch } = message;
        for (const [id, held] of this.held) if (held.batch <= batch) this.held.delete(id);
        for (const [id, last] of this.unstored) if (last <= batch) this.unstored.delete(id);
        this.options.store.renewReads?.();
        this.started();
        // At start, the stored checkpoint: waiters for it hear of it as of a batch that changed nothing.
        if (this.advance(message.frontier)) this.publishFolded({ entities: [], frontier: this.current });
        for (const listener of this.storedListeners) listener(message.frontier);
        return;
      }
      case 'records': {
        const reads = this.reads.get(message.request) ?? [];
        this.reads.delete(message.request);
        reads.forEach((read, i) => {
          const bytes = message.records?.[i];
          if (message.error !== undefined) read.reject(new FoldlineError('fold_worker_read_failed', message.error));
          else read.resolve(bytes ? decodeState<EntityRecord>(bytes) : undefined);
        });
        return;
      }
      case 'metrics':
        this.metricsRequests.get(message.id)?.(message.text);
        this.metricsRequests.delete(message.id);
        return;
      case 'thread':
        this.workerThread = message.id;
        return;
    }
  }

  /** Moves the frontier forward to cover `reported`; false when it already did. */
  private advance(reported: Frontier): boolean {
    const next = mergeFrontiers(this.current, reported);
    if (frontiersEqual(next, this.current)) return false;
    this.current = next;
    for (const wake of this.frontierWaiters) wake();
    this.frontierWaiters.clear();
    return true;
  }

  private publishFolded(batch: FoldedBatch): void {
    for (const listener of this.foldedListeners) {
      try {
        listener(batch);
      } catch (error) {
        this.options.logger.error({ err: error, consumer: this.options.consumer }, 'folded listener failed');
      }
    }
  }

  /** The worker's record of an entity: newer than any batch it reported before answering. */
  private readFromWorker<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    // The worker is gone: the store holds everything it folded (a failed one is reported as fatal).
    if (this.failure) return this.options.store.get<S>(namespace, key);
    return new Promise((resolve, reject) => {
      if (this.readQueue.length === 0) queueMicrotask(() => this.sendReads());
      this.readQueue.push({ namespace, key, resolve: resolve as PendingRead['resolve'], reject });
    });
  }

  private sendReads(): void {
    const reads = this.readQueue;
    this.readQueue = [];
    if (this.failure) {
      for (const read of reads) read.reject(this.failure);
      return;
    }
    const request = this.nextRequest++;
    this.reads.set(request, reads);
    this.send({ type: 'read', request, entities: reads.map(({ namespace, key }) => [namespace, key]) });
  }

  /** Interest changes go to the worker once per event-loop turn, the last word per entity. */
  private tellInterest(id: string, watch: boolean): void {
    if (this.interest.size === 0) {
      queueMicrotask(() => {
        const watched: string[] = [];
        const released: string[] = [];
        for (const [entity, watching] of this.interest) (watching ? watched : released).push(entity);
        this.interest.clear();
        this.send({ type: 'interest', watch: watched, release: released });
      });
    }
    this.interest.set(id, watch);
  }

  private send(message: ToWorker): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.unwatchAppends();
    for (const wake of this.frontierWaiters) wake();
    for (const resolve of this.metricsRequests.values()) resolve('');
    for (const reads of this.reads.values()) for (const { reject } of reads) reject(error);
    this.reads.clear();
    if (!this.stopping) {
      this.options.logger.fatal({ err: error }, 'the fold worker failed');
      this.options.onFatal(error);
    }
  }
}

interface PendingRead {
  namespace: string;
  key: string;
  resolve: (record: EntityRecord | undefined) => void;
  reject: (error: Error) => void;
}

function lazyChange(namespace: string, key: string, bytes: Uint8Array, trace: { traceparent?: string }): EntityChange {
  let record: EntityRecord | undefined;
  return {
    namespace,
    key,
    ...trace,
    get record(): EntityRecord {
      return (record ??= decodeState<EntityRecord>(bytes));
    },
  };
}
