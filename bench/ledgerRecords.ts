import { positionKey } from '../crdt/index.js';
import { shardOf } from '../ledger/shards.js';
import type { CloudEvent, LedgerRecord, StreamRouter } from '../ledger/types.js';

/**
 * The records a ledger would hold for these events, in order: the stream chosen by the
 * router, the shard by `shardOf(subject)`, sequence numbers counted per shard from 1, as
 * the memory ledger numbers them. No dedup and no copy, so building a million is cheap.
 */
export function ledgerRecords(events: Iterable<CloudEvent>, route: StreamRouter, shards: number): LedgerRecord[] {
  const shardOfSubject = new Map<string, number>();
  const lastSeq = new Map<string, number>();
  const records: LedgerRecord[] = [];
  for (const event of events) {
    const stream = route(event);
    let shard = shardOfSubject.get(event.subject);
    if (shard === undefined) shardOfSubject.set(event.subject, (shard = shardOf(event.subject, shards)));
    const position = positionKey(stream, shard);
    const seq = (lastSeq.get(position) ?? 0) + 1;
    lastSeq.set(position, seq);
    records.push({ stream, shard, seq: String(seq), event });
  }
  return records;
}
