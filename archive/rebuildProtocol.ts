import type { FoldTask } from './foldTask.js';
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
  /** Int32 per worker: records folded so far, read by the coordinator for progress. */
  folded: SharedArrayBuffer;
  slot: number;
}

export type FromRebuildWorker =
  | { type: 'bad'; bad: BadPart }
  /** The worker's entity states, per projection: `[key, state][]` in the state encoding. */
  | { type: 'states'; namespaces: Array<[name: string, entries: Uint8Array]> }
  | { type: 'failed'; code?: string; message: string };
