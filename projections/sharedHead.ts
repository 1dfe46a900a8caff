import { frontier, type Frontier } from '../crdt/index.js';
import type { DurableBlock } from '../ledger/backend.js';

/** Bytes of the ring that carries the blocks of small appends. */
const defaultRingBytes = 1 << 20;
/**
 * The blocks of a larger commit (a batch, where one read-back serves many records) are not
 * copied: the reader reads them back, and holds none of them meanwhile.
 */
const maxSharedBytes = 64 * 1024;
/** Per block in the ring: position index, record count, length (Int32 each), last seq (BigInt64). */
const entryHeader = 20;

/**
 * A ledger's durable head and the small blocks that made it, shared between two threads: the
 * writer's thread publishes each new head with its blocks, the fold worker waits for the
 * next and reads the blocks from memory instead of reading them back from the ledger.
 * Shared memory rather than a message per append: a postMessage per append cost the serving
 * thread far more than the shared memory does (docs/benchmarks.md).
 *
 * The blocks go through a ring that the writer never waits for: a reader lapped by it (a
 * burst of appends while it folded) loses those blocks and reads them back instead. The
 * positions are fixed when it is made; seqs are those of the embedded ledger, counters far
 * below 2^63.
 */
export class SharedHead {
  private readonly generation: Int32Array;
  private readonly seqs: BigInt64Array;
  /** Bytes ever written to the ring: [0] of a BigInt64Array. */
  private readonly written: BigInt64Array;
  private readonly ring: Uint8Array;
  private readonly index: Map<string, number>;
  /** Reader: ring bytes taken so far. */
  private readAt: number;
  /** Writer: the same count as `written`, kept as a number. */
  private writeAt: number;
  /** Writer: the seq last published per position. */
  private readonly published: Array<string | undefined>;

  constructor(
    private readonly positions: readonly string[],
    readonly buffer = new SharedArrayBuffer(16 + 8 * positions.length + defaultRingBytes),
  ) {
    this.generation = new Int32Array(buffer, 0, 1);
    this.written = new BigInt64Array(buffer, 8, 1);
    this.seqs = new BigInt64Array(buffer, 16, positions.length);
    this.ring = new Uint8Array(buffer, 16 + 8 * positions.length);
    this.index = new Map(positions.map((position, i) => [position, i]));
    this.writeAt = this.readAt = Number(Atomics.load(this.written, 0));
    this.published = positions.map(() => undefined);
  }

  /** Writer: takes in `head` and the blocks that made it, and wakes the reader. */
  publish(head: Frontier, blocks: readonly DurableBlock[] = []): void {
    let bytes = 0;
    for (const block of blocks) bytes += block.bytes.length;
    if (bytes <= maxSharedBytes) for (const block of blocks) this.put(block);
    // The ring, then the head: a reader that sees this head finds these blocks.
    Atomics.store(this.written, 0, BigInt(this.writeAt));
    for (let i = 0; i < this.positions.length; i++) {
      const seq = head[this.positions[i]!];
      if (seq === undefined || seq === this.published[i]) continue;
      Atomics.store(this.seqs, i, BigInt(seq));
      this.published[i] = seq;
    }
    Atomics.add(this.generation, 0, 1);
    Atomics.notify(this.generation, 0);
  }

  /**
   * Reader: the head once one is published after generation `seen`, with its generation and
   * the blocks published since the last call that the ring still holds; the same generation
   * when `wake` ended the wait first.
   */
  async next(seen: number): Promise<{ generation: number; head: Frontier; blocks: DurableBlock[] }> {
    const waiting = Atomics.waitAsync(this.generation, 0, seen);
    if (waiting.async) await waiting.value;
    const generation = Atomics.load(this.generation, 0);
    const head = this.read();
    return { generation, head, blocks: this.take() };
  }

  /** Reader: wakes a pending `next` at once (to stop it). */
  wake(): void {
    Atomics.notify(this.generation, 0);
  }

  private put({ position, lastSeq, count, bytes }: DurableBlock): void {
    const at = this.index.get(position);
    if (at === undefined) return;
    const header = new DataView(new ArrayBuffer(entryHeader));
    header.setInt32(0, at);
    header.setInt32(4, count);
    header.setInt32(8, bytes.length);
    header.setBigInt64(12, BigInt(lastSeq));
    this.copyIn(new Uint8Array(header.buffer));
    this.copyIn(bytes);
  }

  private copyIn(bytes: Uint8Array): void {
    const offset = this.writeAt % this.ring.length;
    const first = Math.min(bytes.length, this.ring.length - offset);
    this.ring.set(bytes.subarray(0, first), offset);
    if (first < bytes.length) this.ring.set(bytes.subarray(first), 0);
    this.writeAt += bytes.length;
  }

  /** The blocks written since the last take, none if the writer lapped the reader meanwhile. */
  private take(): DurableBlock[] {
    const from = this.readAt;
    const to = Number(Atomics.load(this.written, 0));
    this.readAt = to;
    if (to - from > this.ring.length) return [];
    const blocks: DurableBlock[] = [];
    for (let at = from; at < to; ) {
      const header = new DataView(this.copyOut(at, entryHeader).buffer);
      const length = header.getInt32(8);
      const position = this.positions[header.getInt32(0)];
      // A header the writer overwrote while it was read: the check below drops everything taken.
      if (position === undefined || length < 0 || at + entryHeader + length > to) break;
      const bytes = this.copyOut(at + entryHeader, length);
      blocks.push({ position, count: header.getInt32(4), lastSeq: String(header.getBigInt64(12)), bytes });
      at += entryHeader + length;
    }
    // Copied while the writer went on: what it overwrote meanwhile cannot be trusted.
    return Number(Atomics.load(this.written, 0)) - from > this.ring.length ? [] : blocks;
  }

  private copyOut(at: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    const offset = at % this.ring.length;
    const first = Math.min(length, this.ring.length - offset);
    bytes.set(this.ring.subarray(offset, offset + first));
    if (first < length) bytes.set(this.ring.subarray(0, length - first), first);
    return bytes;
  }

  private read(): Frontier {
    const head = frontier();
    for (let i = 0; i < this.positions.length; i++) {
      const seq = Atomics.load(this.seqs, i);
      if (seq > 0n) head[this.positions[i]!] = String(seq);
    }
    return head;
  }
}
