import { positionKey } from '../crdt/index.js';
import type { LedgerRecord } from '../ledger/types.js';
import type { DeadLetter } from './types.js';

/** A record a projection threw on, as a dead letter keeps it, less the consumer and the time. */
export type RejectedRecord = Omit<DeadLetter, 'consumer' | 'at'>;

export function rejectedRecord(projection: string, key: string, record: LedgerRecord, error: unknown): RejectedRecord {
  return {
    projection,
    key,
    position: positionKey(record.stream, record.shard),
    seq: record.seq,
    event: record.event,
    reason: error instanceof Error ? error.message : String(error),
  };
}
