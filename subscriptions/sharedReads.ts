import { LruCache } from '../base/lruCache.js';
import { compareSeq, positionKey, type Frontier } from '../crdt/index.js';
import type { Ledger, LedgerRecord } from '../ledger/types.js';
import { eventDeliverable, type Deliverable } from './deliverySource.js';

/** A record as deliveries send it, made once for every subscription: its key, and the event's JSON bytes. */
export interface DeliverableRecord extends LedgerRecord, Deliverable {}

/** Reads kept for other subscriptions to take (each up to a round's records of one shard). */
const keptReads = 64;

/**
 * The ledger reads of every subscription, shared: subscriptions at the same place (all of
 * them, at the live tail) read and serialize each record once, not once each. A read is
 * named by its shard, `after`, limit and the shard's durable head when asked, so a kept
 * read is the very answer the ledger would give again (records never change; a read that
 * raced an append holds more, never less).
 */
export class SharedReads {
  private readonly reads = new LruCache<string, Promise<DeliverableRecord[]>>(keptReads);

  constructor(private readonly ledger: Ledger) {}

  /** Up to `limit` records of each shard past `after`, shard after shard (none read of a shard the head says has nothing new). */
  async round(after: Frontier, limit: number): Promise<DeliverableRecord[]> {
    const head = await this.ledger.head();
    const records: DeliverableRecord[] = [];
    for (const { name, shards } of this.ledger.streams) {
      for (let shard = 0; shard < shards; shard++) {
        const position = positionKey(name, shard);
        const last = head[position];
        const from = after[position] ?? null;
        if (last === undefined || (from !== null && compareSeq(last, from) <= 0)) continue;
        records.push(...(await this.read(name, shard, position, from, limit, last)));
      }
    }
    return records;
  }

  private read(stream: string, shard: number, position: string, after: string | null, limit: number, head: string): Promise<DeliverableRecord[]> {
    const name = `${position}|${after ?? ''}|${limit}|${head}`;
    let read = this.reads.get(name);
    if (!read) {
      read = this.ledger.read(stream, shard, after, limit).then((records) => records.map((record) => ({ ...record, ...eventDeliverable(record.event, position, record.seq) })));
      this.reads.set(name, read);
      // A failed read is not kept: the next asks the ledger again.
      const failed = read;
      failed.catch(() => {
        if (this.reads.has(name) && this.reads.get(name) === failed) this.reads.delete(name);
      });
    }
    return read;
  }
}
