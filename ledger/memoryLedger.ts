import { FoldlineError } from '../base/errors.js';
import { frontier, positionKey, type Frontier } from '../crdt/index.js';
import { digestOf, planAppend, receiptsOf, type StoredIdentity } from './appendPlan.js';
import { AppendSignal } from './appendSignal.js';
import type { AppendResult, CloudEvent, Ledger, LedgerRecord, StreamRouter, StreamSpec } from './types.js';

export interface MemoryLedgerOptions {
  streams: readonly StreamSpec[];
  route: StreamRouter;
  /**
   * Answer a repeated (source, id) with its first receipt, as the Ledger contract says.
   * Default true. False makes an at-least-once source, as a stream without idempotent
   * producers is: every event appended lands at a new position, a repeat included
   * (receipts never say `duplicate`, and an id reused with other content is not refused),
   * so that tests can hand consumers re-deliveries to drop. Ordering, heads and
   * waitForAppend are unchanged.
   */
  identityDedup?: boolean;
}

/** A ledger held in memory: for tests and examples; gone when the process ends. */
export class MemoryLedger implements Ledger {
  readonly streams: readonly StreamSpec[];
  private readonly route: StreamRouter;
  private readonly shards = new Map<string, LedgerRecord[]>();
  /** What was appended under each (source, id); undefined when identities are not deduplicated. */
  private readonly identities: Map<string, StoredIdentity> | undefined;
  private readonly signal = new AppendSignal();
  private closed = false;

  constructor(options: MemoryLedgerOptions) {
    this.streams = options.streams;
    this.route = options.route;
    this.identities = options.identityDedup === false ? undefined : new Map();
    for (const { name, shards } of this.streams) for (let s = 0; s < shards; s++) this.shards.set(positionKey(name, s), []);
  }

  async append(events: readonly CloudEvent[]): Promise<AppendResult> {
    this.assertOpen();
    const identities = this.identities;
    const plan = planAppend(events, this.streams, this.route, identities ? (identity) => identities.get(identity) : null);
    const seqs = plan.map((entry) => {
      if (entry.kind !== 'new') return null;
      const records = this.shardRecords(entry.stream, entry.shard);
      const seq = String(records.length + 1);
      records.push({ stream: entry.stream, shard: entry.shard, seq, event: structuredClone(entry.event) });
      identities?.set(entry.identity, { stream: entry.stream, shard: entry.shard, seq, digest: digestOf(entry.event) });
      return seq;
    });
    for (const entry of plan) if (entry.kind === 'new') this.signal.notify(entry.stream);
    return { receipts: receiptsOf(plan, seqs), head: await this.head() };
  }

  async read(stream: string, shard: number, after: string | null, limit = 1000): Promise<LedgerRecord[]> {
    this.assertOpen();
    const records = this.shardRecords(stream, shard);
    const start = after === null ? 0 : Number(after);
    return records.slice(start, start + limit);
  }

  async head(): Promise<Frontier> {
    const head = frontier();
    for (const [position, records] of this.shards) if (records.length > 0) head[position] = records[records.length - 1]!.seq;
    return head;
  }

  async waitForAppend(streams: readonly string[], after: Frontier, signal: AbortSignal): Promise<void> {
    const shards = streams.flatMap((stream) => this.shardsOf(stream));
    while (!this.closed && !signal.aborted) {
      if (shards.some(({ position, records }) => records.length > Number(after[position] ?? 0))) return;
      await this.signal.wait(streams, signal);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.signal.notifyAll();
  }

  private shardsOf(stream: string): Array<{ position: string; records: LedgerRecord[] }> {
    const spec = this.streams.find((s) => s.name === stream);
    if (!spec) throw new FoldlineError('unknown_stream', `no stream ${JSON.stringify(stream)}`);
    return Array.from({ length: spec.shards }, (_, shard) => ({ position: positionKey(stream, shard), records: this.shardRecords(stream, shard) }));
  }

  private shardRecords(stream: string, shard: number): LedgerRecord[] {
    const records = this.shards.get(positionKey(stream, shard));
    if (!records) throw new FoldlineError('unknown_shard', `no shard ${shard} in stream ${JSON.stringify(stream)}`);
    return records;
  }

  private assertOpen(): void {
    if (this.closed) throw new FoldlineError('closed', 'the ledger is closed');
  }
}
