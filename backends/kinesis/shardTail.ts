import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  ProvisionedThroughputExceededException,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareSeq } from '../../crdt/index.js';
import type { CloudEvent, LedgerRecord } from '../../ledger/types.js';
import { lineageOf, type LineageShard } from './streams.js';

/** Kinesis serves each shard at most five GetRecords a second: calls are spaced this far apart. */
const readGapMs = 200;
/** After a throttling answer, the next call waits this much longer. */
const throttledMs = 1000;
/** Records read ahead of the reader before the tail stops reading more. */
const maxBuffered = 20_000;
const recordsPerGet = 10_000;

type Outcome = 'caught-up' | 'more';

/**
 * One foldline shard as read from Kinesis: the records put with its hash key, through the
 * Kinesis shards that held it one after another (parent before child), in order. Reads are
 * served from a buffer that GetRecords fills ahead, so that the head and the records come
 * from the same calls, which Kinesis rations per shard.
 */
export class ShardTail {
  /** Records in seq order, every one after `from`. */
  private buffer: LedgerRecord[] = [];
  /** The buffer holds every record after this seq (null: from the start). */
  private from: string | null = null;
  /** The greatest seq read. */
  private seen: string | undefined;
  private lineage: LineageShard[] | undefined;
  /** Where the next GetRecords reads: an index into the lineage, and its iterator once made. */
  private cursor: { index: number; iterator?: string } | undefined;
  private lastGet = 0;
  /** Whether the last GetRecords found the end of the shard. */
  private caughtUp = false;
  /** Reads and probes run one at a time. */
  private lock: Promise<unknown> = Promise.resolve();
  /** Whether the tail knows where the shard ends (a first read or scan found it). */
  private scanned = false;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    readonly stream: string,
    readonly shard: number,
    private readonly hashKey: bigint,
  ) {}

  /** The greatest seq this tail has read. */
  last(): string | undefined {
    return this.seen;
  }

  /** Up to `limit` records after `after` (null: from the start). */
  read(after: string | null, limit: number): Promise<LedgerRecord[]> {
    return this.exclusive(async () => {
      this.scanned = true;
      if (!(this.from === null || (after !== null && compareSeq(after, this.from) >= 0))) this.restart(after);
      let records = this.after(after, limit);
      // A short page says the shard has no more: read on, unless a read just found its end.
      let fresh = this.caughtUp && Date.now() - this.lastGet < readGapMs;
      while (records.length < limit && !fresh) {
        fresh = (await this.get()) === 'caught-up';
        records = this.after(after, limit);
      }
      this.forget(after);
      return records;
    });
  }

  /**
   * Once, for a tail never read: reads to the end of the shard to learn its last seq,
   * keeping none of the records (a reader may never want this shard: another process folds it).
   */
  scan(): Promise<void> {
    return this.exclusive(async () => {
      if (this.scanned) return;
      this.scanned = true;
      while ((await this.get()) === 'more') this.buffer = this.buffer.slice(-1);
      if (this.seen !== undefined) this.restart(this.seen);
    });
  }

  /** Reads what Kinesis holds past what was read, for the reader to take, if the ration allows now. */
  poll(): Promise<void> {
    return this.exclusive(async () => {
      // Its records are kept from here on: no scan needs to find the end.
      this.scanned = true;
      if (Date.now() - this.lastGet >= readGapMs) await this.get();
    });
  }

  private after(after: string | null, limit: number): LedgerRecord[] {
    const start = after === null ? 0 : this.buffer.findIndex((record) => compareSeq(record.seq, after) > 0);
    return start < 0 ? [] : this.buffer.slice(start, start + limit);
  }

  /** Reading goes back before the buffer: read again from there. */
  private restart(after: string | null): void {
    this.buffer = [];
    this.from = after;
    this.cursor = undefined;
    this.caughtUp = false;
  }

  /** The reader moved on past `after`: what it read is no longer needed. */
  private forget(after: string | null): void {
    if (after === null) return;
    const kept = this.buffer.findIndex((record) => compareSeq(record.seq, after) > 0);
    if (kept < 0) {
      this.buffer = [];
      // Past everything read, the buffer starts at what was read.
      if (this.seen !== undefined && compareSeq(after, this.seen) <= 0) this.from = after;
    } else {
      this.buffer = this.buffer.slice(kept);
      this.from = after;
    }
  }

  /** One GetRecords, spaced as Kinesis rations them; moves to the next shard of the lineage at the end of a closed one. */
  private async get(): Promise<Outcome> {
    const outcome = await this.getOnce();
    this.caughtUp = outcome === 'caught-up';
    return outcome;
  }

  private async getOnce(): Promise<Outcome> {
    if (this.buffer.length >= maxBuffered) return 'caught-up';
    this.lineage ??= await lineageOf(this.client, this.streamName, this.hashKey);
    this.cursor ??= this.start();
    const kinesisShard = this.lineage[this.cursor.index];
    if (!kinesisShard) {
      // Read to the end of a closed shard whose child is not known yet.
      this.lineage = await lineageOf(this.client, this.streamName, this.hashKey);
      return 'caught-up';
    }
    const wait = this.lastGet + readGapMs - Date.now();
    if (wait > 0) await sleep(wait);
    this.lastGet = Date.now();
    try {
      this.cursor.iterator ??= await this.iterator(kinesisShard);
      if (this.cursor.iterator === undefined) return 'caught-up';
      const out = await this.client.send(new GetRecordsCommand({ ShardIterator: this.cursor.iterator, Limit: recordsPerGet }));
      const partitionKey = String(this.shard);
      for (const record of out.Records ?? []) {
        const seq = record.SequenceNumber!;
        const last = this.buffer.at(-1)?.seq ?? this.from;
        if (record.PartitionKey !== partitionKey || (last !== null && compareSeq(seq, last) <= 0)) continue;
        this.buffer.push({ stream: this.stream, shard: this.shard, seq, event: JSON.parse(Buffer.from(record.Data!).toString('utf8')) as CloudEvent });
        if (this.seen === undefined || compareSeq(seq, this.seen) > 0) this.seen = seq;
      }
      if (out.NextShardIterator) {
        this.cursor.iterator = out.NextShardIterator;
        // A closed shard has no more to wait for: read on to its end and into its child.
        const more = kinesisShard.end !== undefined || (out.Records?.length ?? 0) >= recordsPerGet || (out.MillisBehindLatest ?? 0) > 0;
        return more ? 'more' : 'caught-up';
      }
      // A closed shard, read to its end: its child holds what came after.
      this.cursor = { index: this.cursor.index + 1 };
      if (this.cursor.index >= this.lineage.length) this.lineage = await lineageOf(this.client, this.streamName, this.hashKey);
      return 'more';
    } catch (error) {
      if (error instanceof ProvisionedThroughputExceededException) {
        this.lastGet += throttledMs;
        return 'caught-up';
      }
      if (error instanceof ExpiredIteratorException) {
        this.cursor = undefined;
        return 'more';
      }
      throw error;
    }
  }

  /** Where to read from: after the last record held, in the shard of the lineage that has what follows it. */
  private start(): { index: number } {
    const last = this.buffer.at(-1)?.seq ?? this.from;
    if (last === null) return { index: 0 };
    const index = this.lineage!.findIndex((s) => s.end === undefined || compareSeq(s.end, last) > 0);
    return { index: index < 0 ? this.lineage!.length : index };
  }

  private async iterator(kinesisShard: LineageShard): Promise<string | undefined> {
    const last = this.buffer.at(-1)?.seq ?? this.from;
    const input: GetShardIteratorCommandInput =
      last !== null && compareSeq(last, kinesisShard.start) >= 0
        ? { StreamName: this.streamName, ShardId: kinesisShard.id, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: last }
        : { StreamName: this.streamName, ShardId: kinesisShard.id, ShardIteratorType: 'TRIM_HORIZON' };
    try {
      return (await this.client.send(new GetShardIteratorCommand(input))).ShardIterator;
    } catch (error) {
      // A seq past any this shard gave (a frontier from elsewhere): only later records follow it.
      if (error instanceof InvalidArgumentException) {
        return (await this.client.send(new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: kinesisShard.id, ShardIteratorType: 'LATEST' }))).ShardIterator;
      }
      throw error;
    }
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }
}
