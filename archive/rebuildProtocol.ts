import type { FoldTask } from './foldTask.js';
import type { RejectedRecord } from '../projections/rejectedRecord.js';
import type { Handout } from './sortedHandout.js';
import type { BadPart } from './segmentFold.js';
import type { StorageRef } from './storageRef.js';

/** A rebuild worker's `workerData`: what it folds, with which topology. */
export interface RebuildWorkerData {
  /** URL of the topology module (projections/foldWorkerProtocol.ts FoldTopology). */
  topology: string;
  /** Names of the projections to fold; the others of the topology are left out. */
  projections: string[];
  storage: StorageRef;
  task: FoldTask;
  skipBad: boolean;
  encodeIdleAfter: number;
  /** Int32 per worker: records folded so far, read by the coordinator for progress. */
  folded: SharedArrayBuffer;
  slot: number;
}

/** Asks a worker that has folded for a projection's next entities in key order (archive/sortedHandout.ts). */
export interface HandoutRequest {
  name: string;
  entities: number;
}

export type FromRebuildWorker =
  | { type: 'bad'; bad: BadPart }
  /** Folding is done: entities held per projection. The worker then answers handout requests, in order. */
  | { type: 'folded'; counts: Array<[name: string, entities: number]>; rejected: RejectedRecord[] }
  | { type: 'handout'; handout: Handout }
  | { type: 'failed'; code?: string; message: string };
