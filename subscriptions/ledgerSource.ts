import { frontier, frontierAdvance, mergeFrontiers, type Frontier } from '../crdt/index.js';
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
    for (const record of records) frontierAdvance(next, record.position, record.seq);
    const types = this.types;
    return { items: types ? records.filter((record) => types.has(record.event.type)) : records, next };
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
