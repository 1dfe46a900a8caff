import { open, type Database, type RootDatabase } from 'lmdb';
import { createHash } from 'node:crypto';
import { FoldlineError } from '../base/errors.js';
import { compareSeq, frontier, mergeFrontiers, parsePositionKey, positionKey, isSeq, type Frontier } from '../crdt/index.js';
import { digestOf, planAppend, receiptsOf, type PlannedAppend, type StoredIdentity } from './appendPlan.js';
import { AppendSignal } from './appendSignal.js';
import type { DurableBlock, DurablePublisher, HeadFollower } from './backend.js';
import { lockDirectory } from './dirLock.js';
import { describeLayout, layoutOf } from './layout.js';
import { decodeBlock, encodeBlock, joinBlock } from './recordBlock.js';
import type { AppendResult, CloudEvent, Ledger, LedgerRecord, Receipt, StreamRouter, StreamSpec } from './types.js';

export interface EmbeddedLedgerOptions {
  /** The data directory, created if missing. */
  path: string;
  /**
   * The streams and their shard counts. A directory keeps the layout it was created with;
   * opening it with another is an error. Omitted: the layout stored in the directory.
   */
  streams?: readonly StreamSpec[];
  route: StreamRouter;
}

/** A block of records is keyed by its shard and its last seq, so a range read from `[position, n]` starts at the block holding n. */
type BlockKey = [position: string, lastSeq: number];

/** The stored form of record blocks (see recordBlock.ts), kept in `meta`: a directory of another cannot be read. */
const blockFormat = 'json';
/** Keeps blocks (LMDB values) of moderate size even when a group carries many records of one shard. */
const maxBlockEvents = 1000;
/** Longer identities are keyed by their hash: LMDB keys hold at most 1978 bytes. */
const maxIdentityKeyLength = 400;
/** Blocks a reader keeps per shard of those the writer handed it (see `refresh`): a shard it does not read costs no more. */
const maxHandedBlocks = 64;

type NewRecord = Extract<PlannedAppend, { kind: 'new' }>;

/** A block an append wrote, until its group commits: a repeat of one of its events decodes it. */
interface PendingBlock {
  bytes: Buffer;
  events?: CloudEvent[];
}

/** Where a record not yet committed is: what a repeat of its (source, id) is checked against. */
interface PendingRecord {
  stream: string;
  shard: number;
  seq: number;
  block: PendingBlock;
  index: number;
}

/** A block the writer handed a reader (see `refresh`), decoded when first read. */
interface HandedBlock {
  firstSeq: number;
  lastSeq: number;
  bytes: Uint8Array;
  events?: CloudEvent[];
}

/** The appends that share one LMDB transaction. */
class CommitGroup {
  readonly blocks: Array<{ key: BlockKey; bytes: Buffer; count: number }> = [];
  readonly identities: Array<[identity: string, record: PendingRecord]> = [];
  /** The last seq each shard gets in this group. */
  readonly lastSeqs = new Map<string, number>();
  members = 0;
  head: Frontier = frontier();
  readonly durable: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/**
 * The durable ledger of one process, on LMDB.
 *
 * Group commit: append() plans its batch synchronously (dedup against committed and
 * still-pending identities, sequence numbers from in-memory per-shard counters), encodes its
 * blocks and joins the open commit group; one group at a time is written as one LMDB
 * transaction, and the appends that arrive meanwhile form the next group. An append resolves
 * when its group is durable. Blocks are encoded at once so that the appended events are
 * garbage as soon as the append has placed them, not only once their group is durable.
 *
 * Why an acknowledged append survives kill -9 (and power loss): the environment is opened
 * with `overlappingSync: false` and without `noSync`, so LMDB's mdb_txn_commit writes the
 * data pages, fdatasyncs them, then writes and syncs the meta page before it returns.
 * lmdb-js runs that commit on its write thread and resolves the `batch()` promise only
 * after mdb_txn_commit has returned (the TXN_COMMITTED flag is set after it; with
 * overlappingSync on, the promise would resolve before the flush, and only `flushed` would
 * mean durable). A group's writes are one `batch()`, hence one transaction: LMDB commits it
 * whole or not at all, so there is no torn record. Nothing here runs a synchronous LMDB
 * transaction while the ledger is open (no `putSync`, no `sharedStructuresKey`, whose
 * structure saving is one), because lmdb-js splits the pending async transaction in two
 * to let a synchronous one in.
 *
 * Layout: `records` holds blocks of consecutive records of a shard (see recordBlock.ts),
 * keyed [stream/shard, last seq]; `identities` maps (source, id) to the record's shard
 * and seq, and a repeat is compared with the stored original; `meta` holds the layout and
 * the block format.
 *
 * The ledger keeps a reference to the appended events until the append resolves, and
 * events read may be shared with other readers (as the memory ledger's are): callers must
 * not mutate them.
 */
export class EmbeddedLedger implements Ledger, DurablePublisher, HeadFollower {
  readonly streams: readonly StreamSpec[];
  private readonly shardCounts: Map<string, number>;
  private readonly assigned = new Map<string, number>();
  private readonly durable = new Map<string, number>();
  private readonly pending = new Map<string, PendingRecord>();
  /**
   * The last block decoded per shard: a reader's next page usually starts inside it, and
   * a re-sent run of events is checked against it again. Blocks never change once written.
   */
  private readonly recentBlocks = new Map<string, { lastSeq: number; events: CloudEvent[] }>();
  private readonly signal = new AppendSignal();
  private readonly durableListeners = new Set<(head: Frontier, blocks: readonly DurableBlock[]) => void>();
  /** A reader's blocks handed by the writer, per shard, consecutive, not read past yet. */
  private readonly handed = new Map<string, HandedBlock[]>();
  /** A reader's read snapshot may predate its durable head. */
  private snapshotBehind = false;
  private accumulating = new CommitGroup();
  private committing: Promise<void> | null = null;
  private failure: FoldlineError | null = null;
  private closing: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly path: string,
    streams: readonly StreamSpec[],
    private readonly route: StreamRouter,
    private readonly root: RootDatabase,
    private readonly records: Database<string | Buffer, BlockKey>,
    private readonly identities: Database<string, Buffer>,
    /** Undefined for a reader: it holds no lock and cannot append. */
    private readonly release: (() => void) | undefined,
  ) {
    this.streams = streams;
    this.shardCounts = new Map(streams.map((s) => [s.name, s.shards]));
    for (const { name, shards } of streams) {
      for (let shard = 0; shard < shards; shard++) {
        const position = positionKey(name, shard);
        const last = this.lastStoredSeq(position);
        this.assigned.set(position, last);
        if (last > 0) this.durable.set(position, last);
      }
    }
  }

  static async open(options: EmbeddedLedgerOptions): Promise<EmbeddedLedger> {
    const release = lockDirectory(options.path);
    try {
      return await EmbeddedLedger.openEnvironment(options, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * A reader of a ledger another part of this process writes (a fold worker thread beside
   * the writer): it takes no lock, refuses appends and learns of new records through
   * `refresh`, which the writer's side calls after appends.
   */
  static async openReader(options: Omit<EmbeddedLedgerOptions, 'streams'>): Promise<EmbeddedLedger> {
    return EmbeddedLedger.openEnvironment(options, undefined);
  }

  private static async openEnvironment(options: EmbeddedLedgerOptions, release: (() => void) | undefined): Promise<EmbeddedLedger> {
    let root: RootDatabase | undefined;
    try {
      root = open({ path: options.path, overlappingSync: false, maxDbs: 3 });
      const meta = root.openDB<string, string>('meta', { encoding: 'string' });
      const stored = meta.get('layout');
      const storedStreams = stored === undefined ? undefined : (JSON.parse(stored) as StreamSpec[]);
      const streams = layoutOf(options.streams ?? storedStreams, `data directory ${options.path}`);
      if (storedStreams === undefined) {
        if (!release) throw new FoldlineError('no_layout', `data directory ${options.path} holds no ledger yet`);
        await meta.batch(() => {
          void meta.put('layout', JSON.stringify(streams));
          void meta.put('blocks', blockFormat);
        });
      } else if (meta.get('blocks') !== blockFormat) {
        throw new FoldlineError(
          'unsupported_format',
          `data directory ${options.path} holds a ledger of an earlier foldline (its record blocks are not ${blockFormat}); append its events to a new one`,
        );
      } else if (describeLayout(storedStreams) !== describeLayout(streams)) {
        throw new FoldlineError(
          'layout_mismatch',
          `data directory ${options.path} holds streams ${describeLayout(storedStreams)}, not ${describeLayout(streams)}`,
        );
      }
      const records = root.openDB<string | Buffer, BlockKey>('records', { encoding: 'string' });
      const identities = root.openDB<string, Buffer>('identities', { encoding: 'string', keyEncoding: 'binary' });
      return new EmbeddedLedger(options.path, streams, options.route, root, records, identities, release);
    } catch (error) {
      await root?.close();
      throw error;
    }
  }

  /*
   * Not an async function: one keeps its arguments alive until it returns, and a batch's
   * events would then outlive their encoding by a whole group commit.
   */
  append(events: readonly CloudEvent[], texts?: readonly Uint8Array[]): Promise<AppendResult> {
    let receipts: Receipt[];
    let group: CommitGroup;
    try {
      this.assertWritable();
      if (texts && texts.length !== events.length) {
        throw new FoldlineError('invalid_texts', `${texts.length} texts were given for ${events.length} events`);
      }
      const plan = planAppend(events, this.streams, this.route, (identity) => this.identityOf(identity));
      group = this.accumulating;
      receipts = receiptsOf(plan, this.place(group, plan, texts));
    } catch (error) {
      return Promise.reject(error);
    }
    group.members++;
    this.committing ??= this.commitLoop();
    return group.durable.then(() => ({ receipts, head: mergeFrontiers(group.head) }));
  }

  async read(stream: string, shard: number, after: string | null, limit = 1000): Promise<LedgerRecord[]> {
    this.assertOpen();
    const position = this.position(stream, shard);
    const first = after === null ? 1 : Number(parseAfter(after)) + 1;
    const records: LedgerRecord[] = [];
    // Only durable records: a reader must not see a commit still under way (nor tail readers
    // of idle shards pay for a range scan). Seqs are counters far below 2^53.
    const last = this.durable.get(position) ?? 0;
    if (!Number.isSafeInteger(first) || first > last || limit <= 0) return records;
    if (this.readHanded(stream, shard, position, first, Math.min(last, first + limit - 1), records)) return records;
    if (this.snapshotBehind) {
      // lmdb-js keeps a read snapshot until its next timer tick: read the writer's records now.
      this.root.resetReadTxn();
      this.snapshotBehind = false;
    }
    // Blocks are keyed by their last seq, and a commit's last block ends at the durable seq.
    for (const { key, value } of this.records.getRange({ start: [position, first], end: [position, last + 1] })) {
      const events = this.blockEvents(position, key[1], value);
      const blockFirst = key[1] - events.length + 1;
      for (let i = Math.max(0, first - blockFirst); i < events.length && records.length < limit; i++) {
        records.push({ stream, shard, seq: String(blockFirst + i), event: events[i]! });
      }
      if (records.length >= limit) break;
    }
    return records;
  }

  async head(): Promise<Frontier> {
    return this.durableHead();
  }

  async waitForAppend(streams: readonly string[], after: Frontier, signal: AbortSignal): Promise<void> {
    const positions = streams.flatMap((stream) => this.positionsOf(stream));
    while (!this.closed && !signal.aborted) {
      if (positions.some((position) => compareSeq(String(this.durable.get(position) ?? 0), parseAfter(after[position] ?? '0')) > 0)) return;
      await this.signal.wait(streams, signal);
    }
  }

  onDurable(listener: (head: Frontier, blocks: readonly DurableBlock[]) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  /**
   * A reader's catch-up with the writer: takes in its durable `head`, waking the waiters of
   * shards that grew, and keeps the `blocks` handed with it to read them from memory.
   */
  refresh(head: Frontier, blocks: readonly DurableBlock[] = []): void {
    if (this.closing) return;
    for (const block of blocks) this.keepHanded(block);
    for (const position of this.assigned.keys()) {
      const last = Number(head[position] ?? 0);
      if (last <= (this.durable.get(position) ?? 0)) continue;
      this.durable.set(position, last);
      this.snapshotBehind = true;
      this.signal.notify(parsePositionKey(position).stream);
    }
  }

  private keepHanded({ position, lastSeq, count, bytes }: DurableBlock): void {
    if (!this.assigned.has(position)) return;
    const block: HandedBlock = { firstSeq: Number(lastSeq) - count + 1, lastSeq: Number(lastSeq), bytes };
    const blocks = this.handed.get(position);
    // Only a run of consecutive records serves reads: a gap (a block not handed) starts a new one.
    if (!blocks || blocks[blocks.length - 1]!.lastSeq + 1 !== block.firstSeq) this.handed.set(position, [block]);
    else if (blocks.push(block) > maxHandedBlocks) blocks.shift();
  }

  /**
   * Records `first` to `end` of a shard from the blocks handed by the writer, into
   * `records`; false (and `records` untouched) unless they hold every one of them.
   */
  private readHanded(stream: string, shard: number, position: string, first: number, end: number, records: LedgerRecord[]): boolean {
    const blocks = this.handed.get(position);
    if (!blocks) return false;
    // Blocks read past are done with: reads move forward.
    while (blocks.length > 0 && blocks[0]!.lastSeq < first) blocks.shift();
    if (blocks.length === 0) {
      this.handed.delete(position);
      return false;
    }
    if (blocks[0]!.firstSeq > first || blocks[blocks.length - 1]!.lastSeq < end) return false;
    for (const block of blocks) {
      if (block.firstSeq > end) break;
      const events = (block.events ??= decodeBlock(block.bytes));
      for (let seq = Math.max(first, block.firstSeq); seq <= Math.min(end, block.lastSeq); seq++) {
        records.push({ stream, shard, seq: String(seq), event: events[seq - block.firstSeq]! });
      }
    }
    // Read through: not held a batch longer (a held event outlives a scavenge or two).
    while (blocks.length > 0 && blocks[0]!.lastSeq <= end) blocks.shift();
    if (blocks.length === 0) this.handed.delete(position);
    return true;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.committing) await this.committing;
      await this.root.close();
      this.release?.();
      this.closed = true;
      this.signal.notifyAll();
    })();
    return this.closing;
  }

  /**
   * Gives the new records their seqs and puts their blocks in the group (one block per shard
   * and append, at most maxBlockEvents long); their identities are pending until the group
   * commits. Every block is encoded first: an event that cannot be encoded changes nothing.
   * Returns each entry's seq, null for a repeat.
   */
  private place(group: CommitGroup, plan: readonly PlannedAppend[], texts: readonly Uint8Array[] | undefined): Array<string | null> {
    const runs = new Map<string, Array<{ at: number; entry: NewRecord }>>();
    plan.forEach((entry, at) => {
      if (entry.kind !== 'new') return;
      const position = positionKey(entry.stream, entry.shard);
      const run = runs.get(position);
      if (run) run.push({ at, entry });
      else runs.set(position, [{ at, entry }]);
    });
    const blocks: Array<{ position: string; records: Array<{ at: number; entry: NewRecord }>; block: PendingBlock }> = [];
    for (const [position, run] of runs) {
      for (let start = 0; start < run.length; start += maxBlockEvents) {
        const records = run.length <= maxBlockEvents ? run : run.slice(start, start + maxBlockEvents);
        const bytes = texts ? joinBlock(records.map(({ at }) => texts[at]!)) : encodeBlock(records.map(({ entry }) => entry.event));
        blocks.push({ position, records, block: { bytes } });
      }
    }
    const seqs: Array<string | null> = plan.map(() => null);
    for (const { position, records, block } of blocks) {
      const first = this.assigned.get(position)! + 1;
      const last = first + records.length - 1;
      this.assigned.set(position, last);
      group.lastSeqs.set(position, last);
      group.blocks.push({ key: [position, last], bytes: block.bytes, count: records.length });
      records.forEach(({ at, entry }, index) => {
        const record: PendingRecord = { stream: entry.stream, shard: entry.shard, seq: first + index, block, index };
        this.pending.set(entry.identity, record);
        group.identities.push([entry.identity, record]);
        seqs[at] = String(first + index);
      });
    }
    return seqs;
  }

  private async commitLoop(): Promise<void> {
    // The appends of the current event turn join the first group.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.accumulating.members > 0) {
      const group = this.accumulating;
      this.accumulating = new CommitGroup();
      await this.commit(group);
    }
    this.committing = null;
  }

  private async commit(group: CommitGroup): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      if (group.identities.length > 0) await this.root.batch(() => this.write(group.blocks, group.identities));
    } catch (cause) {
      // Seqs of later groups assume this one landed: refuse every further append.
      this.failure ??= new FoldlineError('storage_failed', `the ledger at ${this.path} could not commit (${String(cause)}); reopen it`, { cause,
      });
      group.reject(this.failure);
      return;
    }
    for (const [position, last] of group.lastSeqs) this.durable.set(position, last);
    for (const [identity] of group.identities) this.pending.delete(identity);
    group.head = this.durableHead();
    if (this.durableListeners.size > 0) {
      const blocks = group.blocks.map(({ key: [position, last], bytes, count }): DurableBlock => ({ position, lastSeq: String(last), count, bytes }));
      for (const listener of this.durableListeners) listener(group.head, blocks);
    }
    group.resolve();
    for (const position of group.lastSeqs.keys()) this.signal.notify(parsePositionKey(position).stream);
  }

  private write(blocks: CommitGroup['blocks'], identities: CommitGroup['identities']): void {
    for (const { key, bytes } of blocks) void this.records.put(key, bytes);
    for (const [identity, { stream, shard, seq }] of identities) void this.identities.put(identityKey(identity), `${shard} ${seq} ${stream}`);
  }

  private durableHead(): Frontier {
    const head = frontier();
    for (const [position, seq] of this.durable) head[position] = String(seq);
    return head;
  }

  /**
   * What the ledger holds of an identity, pending or committed. Only the location is
   * stored: the digest of the original is computed when a repeat needs it, so that new
   * events never pay for canonical JSON.
   */
  private identityOf(identity: string): StoredIdentity | undefined {
    const pending = this.pending.get(identity);
    if (pending) {
      const events = (pending.block.events ??= decodeBlock(pending.block.bytes));
      return { stream: pending.stream, shard: pending.shard, seq: String(pending.seq), digest: digestOf(events[pending.index]!) };
    }
    const text = this.identities.get(identityKey(identity));
    if (text === undefined) return undefined;
    // `${shard} ${seq} ${stream}`: the stream last, whatever characters it holds.
    const [, shard, seq, stream] = /^(\d+) (\d+) (.*)$/s.exec(text)! as unknown as [string, string, string, string];
    return { stream, shard: Number(shard), seq, digest: digestOf(this.storedEvent(positionKey(stream, Number(shard)), Number(seq))) };
  }

  private storedEvent(position: string, seq: number): CloudEvent {
    const recent = this.recentBlocks.get(position);
    if (recent && seq <= recent.lastSeq && seq > recent.lastSeq - recent.events.length) {
      return recent.events[seq - (recent.lastSeq - recent.events.length + 1)]!;
    }
    for (const { key, value } of this.records.getRange({ start: [position, seq], end: [position, Infinity], limit: 1 })) {
      const events = this.blockEvents(position, key[1], value);
      return events[seq - (key[1] - events.length + 1)]!;
    }
    throw new FoldlineError('corrupt', `record ${position}/${seq} of ${this.path} is missing`);
  }

  private blockEvents(position: string, lastSeq: number, block: string | Buffer): CloudEvent[] {
    const recent = this.recentBlocks.get(position);
    if (recent?.lastSeq === lastSeq) return recent.events;
    const events = decodeBlock(block);
    this.recentBlocks.set(position, { lastSeq, events });
    return events;
  }

  private lastStoredSeq(position: string): number {
    for (const key of this.records.getKeys({ start: [position, Infinity], end: [position, 0], reverse: true, limit: 1 })) return key[1];
    return 0;
  }

  private positionsOf(stream: string): string[] {
    const shards = this.shardCounts.get(stream);
    if (shards === undefined) throw new FoldlineError('unknown_stream', `no stream ${JSON.stringify(stream)}`);
    return Array.from({ length: shards }, (_, shard) => positionKey(stream, shard));
  }

  private position(stream: string, shard: number): string {
    const shards = this.shardCounts.get(stream);
    if (shards === undefined || !Number.isInteger(shard) || shard < 0 || shard >= shards) {
      throw new FoldlineError('unknown_shard', `no shard ${shard} in stream ${JSON.stringify(stream)}`);
    }
    return positionKey(stream, shard);
  }

  private assertOpen(): void {
    if (this.closed) throw new FoldlineError('closed', 'the ledger is closed');
  }

  private assertWritable(): void {
    if (!this.release) throw new FoldlineError('read_only', `this is a reader of the ledger at ${this.path}`);
    if (this.closing) throw new FoldlineError('closed', 'the ledger is closed');
    if (this.failure) throw this.failure;
  }
}

/** UTF-8 bytes as the key (faithful: JSON text escapes lone surrogates), copied as is where an ordered-binary string key is encoded char by char. */
function identityKey(identity: string): Buffer {
  return Buffer.from(identity.length <= maxIdentityKeyLength ? identity : `#${createHash('sha256').update(identity).digest('base64url')}`);
}

function parseAfter(after: string): string {
  if (!isSeq(after)) throw new FoldlineError('bad_position', `position ${JSON.stringify(after)} is not a sequence number`);
  return after;
}
