import type { LedgerBackend } from '../../ledger/backend.js';
import { RedisLedger, type RedisLedgerConfig } from './redisLedger.js';

/**
 * The Redis Streams ledger as a backend module. Durable as far as the Redis server is
 * (its appendonly setting): an acknowledged append survives our process, not a Redis that
 * keeps nothing on disk. Its readers learn of appends by pub/sub, not from the writer.
 */
export const ledgerBackend: LedgerBackend<RedisLedgerConfig> = {
  capabilities: { durable: true, atomicBatch: true, identityDedup: true, readerFollowsWriter: false },
  open: (config, { streams, route }) => RedisLedger.open(config, streams, route),
  openReader: (config, route) => RedisLedger.openReader(config, route),
};
