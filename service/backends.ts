import { join } from 'node:path';
import type { LedgerBackend } from '../ledger/backend.js';
import type { BackendRef } from '../projections/backendModules.js';
import { loadLedgerBackend, loadStoreBackend } from '../projections/backendModules.js';
import type { StoreBackend } from '../projections/storeBackend.js';

/** The ledger and state store a service runs on, each named by its module and config. */
export interface Backends {
  ledger: BackendRef;
  store: BackendRef;
}

/** The backends, loaded. */
export interface LoadedBackends {
  ledger: LedgerBackend;
  store: StoreBackend;
}

/** The default: the embedded (LMDB) ledger and store, in `ledger/` and `state/` of a data directory. */
export function embeddedBackends(dataDir: string): Backends {
  return {
    ledger: { module: new URL('../ledger/embeddedBackend.ts', import.meta.url).href, config: { path: join(dataDir, 'ledger') } },
    store: { module: new URL('../projections/embeddedStoreBackend.ts', import.meta.url).href, config: { path: join(dataDir, 'state') } },
  };
}

export async function loadBackends(backends: Backends): Promise<LoadedBackends> {
  const [ledger, store] = await Promise.all([loadLedgerBackend(backends.ledger), loadStoreBackend(backends.store)]);
  return { ledger, store };
}
