import { EmbeddedStore } from './embeddedStore.js';
import type { StoreBackend } from './storeBackend.js';

export interface EmbeddedStoreConfig {
  /** The store's directory, created if missing. */
  path: string;
}

/** The embedded (LMDB) state store as a backend module: the default of `foldline start`. */
export const storeBackend: StoreBackend<EmbeddedStoreConfig> = {
  capabilities: { durable: true, atomicCommit: true },
  open: async ({ path }) => new EmbeddedStore({ path }),
};
