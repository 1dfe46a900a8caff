import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { setTimeout as sleep } from 'node:timers/promises';
import { FoldlineError } from '../../base/errors.js';
import { compareSeq, frontier, frontierAdvance, isSeq, mergeFrontiers, positionKey, type Frontier } from '../../crdt/index.js';
import { planAppend } from '../../ledger/appendPlan.js';
import { AppendSignal } from '../../ledger/appendSignal.js';
import { layoutOf } from '../../ledger/layout.js';
import type { AppendResult, CloudEvent, Ledger, LedgerRecord, Receipt, StreamRouter, StreamSpec } from '../../ledger/types.js';
import { awsClientConfig, type AwsEndpoint } from '../aws/clientConfig.js';
import { ShardTail } from './shardTail.js';
import { ensureStreams, hashKeyOf, kinesisStreamName, storedLayout } from './streams.js';

export interface KinesisLedgerConfig extends AwsEndpoint {
  /** Prefixes every stream: `NAME-STREAM`. */
  name: string;
  /** Create missing streams. */
  create: boolean;
}

/** PutRecords takes at most this many records a call. */
const recordsPerPut = 500;
/** Calls that may retry the records a PutRecords could not put (throttled) before the append fails. */
const putAttempts = 8;
/** Kinesis sequence numbers have fewer digits than this. */
const beyondKinesis = `1${'0'.repeat(60)}`;
/**
 * How often a waiter looks for appends it was not told of (another process's), as the
 * Kinesis Client Library's idle time between reads: polling at the five reads a second
 * Kinesis allows would spend them all on shards that have nothing new.
 */
const pollMs = 500;

interface PendingRecord {
  index: number;
  shard: number;
  data: Uint8Array;
}

/**
 * A ledger on Kinesis Data Streams: one Kinesis stream per stream, each foldline shard the
 * records put with its own hash key (streams.ts), so that it maps to the same shard number
 * as `shardOf` gives and survives resharding. Seqs are Kinesis's sequence numbers, as
 * given. Kinesis neither refuses a repeated record nor puts a batch atomically: the runtime's
 * id window drops repeats. Appends of other processes are found by reading (GetRecords),
 * within the five reads a second Kinesis allows each shard.
 */
export class KinesisLedger implements Ledger {
  private readonly tails = new Map<string, ShardTail>();
  /** The last seq of each shard this ledger appended to: its appends' heads. */
  private readonly appended = frontier();
  private readonly signal = new AppendSignal();
  private closed = false;

  private constructor(
    private readonly client: KinesisClient,
    private readonly name: string,
    readonly streams: readonly StreamSpec[],
    private readonly route: StreamRouter,
  ) {
    for (const { name: stream, shards } of streams) {
      for (let shard = 0; shard < shards; shard++) {
        this.tails.set(positionKey(stream, shard), new ShardTail(client, kinesisStreamName(name, stream), stream, shard, hashKeyOf(shard, shards)));
      }
    }
  }

  static async open(config: KinesisLedgerConfig, streams: readonly StreamSpec[], route: StreamRouter): Promise<KinesisLedger> {
    const client = new KinesisClient(awsClientConfig(config));
    try {
      const layout = layoutOf(streams, `Kinesis (--name ${config.name})`);
      await ensureStreams(client, config.name, layout, config.create, config);
      return new KinesisLedger(client, config.name, layout, route);
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  static async openReader(config: KinesisLedgerConfig, route: StreamRouter): Promise<KinesisLedger> {
    const client = new KinesisClient(awsClientConfig(config));
    try {
      const layout = await storedLayout(client, config.name, config);
      if (layout.length === 0) throw new FoldlineError('no_layout', `Kinesis has no streams of ${config.name}; check --name`);
      return new KinesisLedger(client, config.name, layoutOf(layout, `Kinesis (--name ${config.name})`), route);
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  async append(events: readonly CloudEvent[], texts?: readonly Uint8Array[]): Promise<AppendResult> {
    this.assertOpen();
    if (texts !== undefined && texts.length !== events.length) throw new FoldlineError('invalid_texts', `${texts.length} texts were given for ${events.length} events`);
    const plan = planAppend(events, this.streams, this.route, null);
    const byStream = new Map<string, PendingRecord[]>();
    plan.forEach((entry, index) => {
      if (entry.kind !== 'new') throw new Error('a plan without identities has only new records');
      const pending = byStream.get(entry.stream) ?? [];
      byStream.set(entry.stream, pending);
      pending.push({ index, shard: entry.shard, data: texts?.[index] ?? Buffer.from(JSON.stringify(entry.event)) });
    });
    const seqs: string[] = [];
    await Promise.all(
      [...byStream].map(async ([stream, records]) => {
        for (let i = 0; i < records.length; i += recordsPerPut) await this.put(stream, records.slice(i, i + recordsPerPut), seqs);
      }),
    );
    const receipts = plan.map((entry, index): Receipt => {
      const { stream, shard, event } = entry as Extract<typeof entry, { kind: 'new' }>;
      frontierAdvance(this.appended, positionKey(stream, shard), seqs[index]!);
      return { id: event.id, stream, shard, seq: seqs[index]!, duplicate: false };
    });
    for (const stream of byStream.keys()) this.signal.notify(stream);
    return { receipts, head: mergeFrontiers(this.appended) };
  }

  async read(stream: string, shard: number, after: string | null, limit = 1000): Promise<LedgerRecord[]> {
    this.assertOpen();
    const tail = this.tails.get(positionKey(stream, shard));
    if (!tail) throw new FoldlineError('unknown_shard', `no shard ${shard} in stream ${JSON.stringify(stream)}`);
    if (after !== null && !isSeq(after)) throw new FoldlineError('bad_position', `position ${JSON.stringify(after)} is not a sequence number`);
    return tail.read(after, limit);
  }

  /**
   * What this ledger appended, and what reading found: each shard is read to its end once,
   * then as waits and reads go on (at most as often as Kinesis allows).
   */
  async head(): Promise<Frontier> {
    this.assertOpen();
    await Promise.all([...this.tails.values()].map((tail) => tail.scan()));
    const head = mergeFrontiers(this.appended);
    for (const [position, tail] of this.tails) {
      const last = tail.last();
      if (last !== undefined) frontierAdvance(head, position, last);
    }
    return head;
  }

  async waitForAppend(streams: readonly string[], after: Frontier, signal: AbortSignal): Promise<void> {
    // A shard the frontier puts past any Kinesis sequence number (another process folds it) is not read.
    const waited = [...this.tails].filter(([position, tail]) => streams.includes(tail.stream) && compareSeq(after[position] ?? '0', beyondKinesis) < 0);
    const positions = waited.map(([position]) => position);
    while (!this.closed && !signal.aborted) {
      await Promise.all(waited.map(([, tail]) => tail.poll()));
      const head = await this.head();
      if (positions.some((position) => head[position] !== undefined && compareSeq(head[position]!, after[position] ?? '0') > 0)) return;
      const waiting = new AbortController();
      const stop = (): void => waiting.abort();
      signal.addEventListener('abort', stop, { once: true });
      const timer = setTimeout(stop, pollMs);
      await this.signal.wait(streams, waiting.signal);
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal.notifyAll();
    this.client.destroy();
  }

  /** Puts records of one stream, again and again for those Kinesis could not put, until all are in. */
  private async put(stream: string, records: PendingRecord[], seqs: string[]): Promise<void> {
    const shards = this.streams.find((spec) => spec.name === stream)!.shards;
    let pending = records;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await this.client.send(
        new PutRecordsCommand({
          StreamName: kinesisStreamName(this.name, stream),
          Records: pending.map(({ shard, data }) => ({ Data: data, PartitionKey: String(shard), ExplicitHashKey: hashKeyOf(shard, shards).toString() })),
        }),
      );
      const failed: PendingRecord[] = [];
      (out.Records ?? []).forEach((result, k) => {
        if (result.SequenceNumber) seqs[pending[k]!.index] = result.SequenceNumber;
        else failed.push(pending[k]!);
      });
      if (failed.length > 0 && attempt >= putAttempts) {
        throw new FoldlineError('append_failed', `Kinesis did not take ${failed.length} records of stream ${stream} after ${attempt} attempts`);
      }
      if (failed.length > 0) await sleep(Math.min(2000, 50 * 2 ** attempt));
      pending = failed;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new FoldlineError('closed', 'the ledger is closed');
  }
}
