import type { Frontier } from '../crdt/index.js';
import type { StreamRouter } from '../ledger/types.js';
import type { ProjectionDefinition } from './types.js';

/**
 * What a fold worker computes, as a module it imports by URL (functions cannot cross
 * threads): the module exports `projections` and the ledger's `route`.
 */
export interface FoldTopology {
  projections: readonly ProjectionDefinition[];
  route: StreamRouter;
}

/** The worker's `workerData`. */
export interface FoldWorkerData {
  /** URL of the topology module. */
  topology: string;
  consumer: string;
  ledgerPath: string;
  storePath: string;
  batchSize?: number;
  idWindow?: number;
  logLevel: string;
  /**
   * Flow control of the batch reports, shared by both threads: Int32 [0] counts the
   * batches the worker reported as folded, [1] those the serving thread took in. The
   * worker folds on only while fewer than `reportsInFlight` reports wait, so a busy serving
   * thread holds a bounded queue of messages rather than every batch folded meanwhile.
   */
  reportCounts: SharedArrayBuffer;
  reportsInFlight: number;
}

/** An entity a batch changed: its record in the state encoding, decoded on the other side only when read. */
export interface EncodedEntity {
  namespace: string;
  key: string;
  record: Uint8Array;
}

export type ToWorker =
  /** The ledger has new records, up to its durable `head`: read them. */
  | { type: 'appended'; head: Frontier }
  | { type: 'metrics'; id: number }
  | { type: 'stop' };

export type FromWorker =
  /** A batch folded; its store write is on the way. */
  | { type: 'folded'; entities: EncodedEntity[]; frontier: Frontier }
  /** The last folded batch is in the store; also sent once at start, with the stored checkpoint. */
  | { type: 'stored'; frontier: Frontier }
  | { type: 'metrics'; id: number; text: string };
