import { FoldlineError } from '../base/errors.js';
import type { LedgerBackend } from '../ledger/backend.js';
import type { StoreBackend } from './storeBackend.js';

/**
 * A backend named by the URL of its module and its plain-data config: what crosses to a
 * thread or process that opens the same backend (functions cannot cross).
 */
export interface BackendRef {
  module: string;
  config: unknown;
}

export function loadLedgerBackend(ref: BackendRef): Promise<LedgerBackend> {
  return exportOf<LedgerBackend>(ref, 'ledgerBackend');
}

export function loadStoreBackend(ref: BackendRef): Promise<StoreBackend> {
  return exportOf<StoreBackend>(ref, 'storeBackend');
}

async function exportOf<T>(ref: BackendRef, name: string): Promise<T> {
  const module = (await import(ref.module)) as Record<string, unknown>;
  const backend = module[name];
  if (typeof backend !== 'object' || backend === null) throw new FoldlineError('bad_backend', `module ${ref.module} exports no ${name}`);
  return backend as T;
}
