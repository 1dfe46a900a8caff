import type { Frontier } from '../crdt/index.js';
import type { CloudEvent, StreamRouter } from '../ledger/types.js';
import type { BackendRef } from './backendModules.js';
import type { ProjectionDefinition } from './types.js';

/**
 * What a fold worker computes, as a module it imports by URL (functions cannot cross
 * threads): the module exports `projections` and the ledger's `route`.
 */
export interface FoldTopology {
  projections: readonly ProjectionDefinition[];
  route: StreamRouter;
  /**
   * The domain's check of one event, as an append makes it (throws a FoldlineError naming the
   * bad field): a rebuild from a bare export folds only the events the ledger would have taken.
   */
  validate?: (value: unknown) => CloudEvent;
}

/** The worker's `workerData`. */
export interface FoldWorkerData {
  /** URL of the topology module. */
  topology: string;
  consumer: string;
  /** The ledger backend the worker opens a reader of, and the state store backend it commits to. */
  ledgerBackend: BackendRef;
  storeBackend: BackendRef;
  batchSize?: number;
  idWindow?: number;
  /** The positions to fold, when this worker folds only some shards (ProjectionRuntimeOptions.positions). */
  positions?: string[];
  commitIntervalMs?: number;
  logLevel: string;
  /**
   * Flow control of the batch reports, shared by both threads: Int32 [0] counts the
   * batches the worker reported as folded, [1] those the serving thread took in. The
   * worker folds on only while fewer than `reportsInFlight` reports wait, so a busy serving
   * thread holds a bounded queue of messages rather than every batch folded meanwhile.
   */
  reportCounts: SharedArrayBuffer;
  reportsInFlight: number;
  /**
   * The ledger's durable head as the serving thread publishes it (see SharedHead), over
   * `positions`: only for a reader that follows the writer (LedgerCapabilities.readerFollowsWriter).
   */
  head?: { buffer: SharedArrayBuffer; positions: string[] };
}

/**
 * An entity a batch changed, with its record in the state encoding (decoded on the other
 * side only when read) if the serving thread watches the entity.
 */
export interface EncodedEntity {
  namespace: string;
  key: string;
  record?: Uint8Array;
  traceparent?: string;
}

export type ToWorker =
  /** Entities' records as folded so far; the entities are watched from then on. */
  | { type: 'read'; request: number; entities: Array<[namespace: string, key: string]> }
  /** Entity ids (`pairKey`) whose records later changes should, or need no longer, carry. */
  | { type: 'interest'; watch: string[]; release: string[] }
  | { type: 'metrics'; id: number }
  | { type: 'stop' };

export type FromWorker =
  /** Batch number `batch` (counting from 1) folded; its store commit may come later. */
  | { type: 'folded'; batch: number; entities: EncodedEntity[]; frontier: Frontier }
  /**
   * A store commit landed: every batch up to `batch` is stored. Also sent once at start, as
   * batch 0, with the stored checkpoint.
   */
  | { type: 'stored'; batch: number; frontier: Frontier }
  /** The answer to a `read`: each entity's record or null (it has no state), or why it failed. */
  | { type: 'records'; request: number; records?: Array<Uint8Array | null>; error?: string }
  | { type: 'metrics'; id: number; text: string }
  /** The worker's kernel thread id, once at start (where the platform has one): its CPU time is read by it. */
  | { type: 'thread'; id: number };
