import type { LedgerBackend } from './backend.js';
import { EmbeddedLedger } from './embeddedLedger.js';

export interface EmbeddedLedgerConfig {
  /** The ledger's directory, created if missing. */
  path: string;
}

/** The embedded (LMDB) ledger as a backend module: the default of `foldline start`. */
export const ledgerBackend: LedgerBackend<EmbeddedLedgerConfig> = {
  capabilities: { durable: true, atomicBatch: true, identityDedup: true, readerFollowsWriter: true },
  open: ({ path }, { streams, route }) => EmbeddedLedger.open({ path, streams, route }),
  openReader: ({ path }, route) => EmbeddedLedger.openReader({ path, route }),
};
