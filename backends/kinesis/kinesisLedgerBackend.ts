import type { LedgerBackend } from '../../ledger/backend.js';
import { KinesisLedger, type KinesisLedgerConfig } from './kinesisLedger.js';

/**
 * The Kinesis ledger as a backend module. It claims neither identity dedup nor atomic
 * batches, which Kinesis does not give: the runtime's id window drops repeats.
 */
export const ledgerBackend: LedgerBackend<KinesisLedgerConfig> = {
  capabilities: { durable: true, atomicBatch: false, identityDedup: false, readerFollowsWriter: false },
  open: (config, { streams, route }) => KinesisLedger.open(config, streams, route),
  openReader: (config, route) => KinesisLedger.openReader(config, route),
};
