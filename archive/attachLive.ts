import type { Ledger } from '../ledger/types.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import type { ProjectionDefinition, StateStore } from '../projections/types.js';

export interface AttachLiveOptions {
  ledger: Ledger;
  /** The rebuilt store: its checkpoint is where the archive ended. */
  store: StateStore;
  projections: readonly ProjectionDefinition[];
  consumer: string;
  /** Event identities the live runtime remembers (0 for a ledger that refuses repeats itself). */
  idWindow?: number;
}

/**
 * Folds what the live ledger holds past the rebuilt checkpoint, with the runtime that
 * `foldline start` runs: it reads each shard after the checkpoint's seq, so records the
 * archive and the ledger both hold are not folded again, and none after it is missed.
 * Returns once everything the ledger held when called is committed.
 */
export async function attachLive(options: AttachLiveOptions): Promise<void> {
  const runtime = new ProjectionRuntime({
    consumer: options.consumer,
    ledger: options.ledger,
    store: options.store,
    projections: options.projections,
    ...(options.idWindow === undefined ? {} : { idWindow: options.idWindow }),
  });
  await runtime.catchUp();
}
