import { isTraceparent } from '../base/traceparent.js';
import { frontier, frontierAdvance, mergeFrontiers, positionKey, type Frontier } from '../crdt/index.js';
import type { Ledger } from '../ledger/types.js';
import type { DeliveryRound, DeliverySource } from './deliverySource.js';
import type { SharedReads } from './sharedReads.js';

/** The ledger's events of some types (all, without `types`), read through the reads every subscription shares. */
export class LedgerSource implements DeliverySource {
  private readonly streams: string[];

  constructor(
    private readonly ledger: Ledger,
    private readonly reads: SharedReads,
    private readonly types: ReadonlySet<string> | undefined,
  ) {
    this.streams = ledger.streams.map(({ name }) => name);
  }

  async start(from: 'now' | 'start'): Promise<Frontier> {
    return from === 'now' ? this.ledger.head() : frontier();
  }

  async round(checkpoint: Frontier, limit: number): Promise<DeliveryRound | undefined> {
    const records = await this.reads.round(checkpoint, limit);
    if (records.length === 0) return undefined;
    const next = mergeFrontiers(checkpoint);
    const items: DeliveryRound['items'] = [];
    for (const record of records) {
      const position = positionKey(record.stream, record.shard);
      frontierAdvance(next, position, record.seq);
      if (this.types && !this.types.has(record.event.type)) continue;
      const traceparent = record.event['traceparent'];
      // Events of one key are delivered in ledger order: a key lives in one shard.
      items.push({ key: `${position}\u0000${record.event.subject}`, position, seq: record.seq, id: record.event.id, traceparent: isTraceparent(traceparent) ? traceparent : undefined, body: record.body });
    }
    return { items, next };
  }

  waitForMore(checkpoint: Frontier, signal: AbortSignal): Promise<void> {
    return this.ledger.waitForAppend(this.streams, checkpoint, signal);
  }

  lag(checkpoint: Frontier, head: Frontier): number {
    let lag = 0n;
    for (const [position, seq] of Object.entries(head)) {
      const behind = BigInt(seq) - BigInt(checkpoint[position] ?? '0');
      if (behind > 0n) lag += behind;
    }
    return Number(lag);
  }
}
