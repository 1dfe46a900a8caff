import { frontier, type Frontier } from '../crdt/index.js';

/**
 * A ledger's durable head shared between two threads: the writer's thread publishes each new
 * head, the fold worker waits for the next. Shared memory rather than a message per append:
 * a postMessage per append cost the serving thread far more than the shared memory does
 * (docs/benchmarks.md).
 * The positions are fixed when it is made; seqs are those of the embedded ledger, counters
 * far below 2^63.
 */
export class SharedHead {
  private readonly generation: Int32Array;
  private readonly seqs: BigInt64Array;

  constructor(
    private readonly positions: readonly string[],
    readonly buffer = new SharedArrayBuffer(8 + 8 * positions.length),
  ) {
    this.generation = new Int32Array(buffer, 0, 1);
    this.seqs = new BigInt64Array(buffer, 8, positions.length);
  }

  /** Writer: takes in `head` and wakes the reader. */
  publish(head: Frontier): void {
    for (let i = 0; i < this.positions.length; i++) {
      const seq = head[this.positions[i]!];
      if (seq !== undefined) Atomics.store(this.seqs, i, BigInt(seq));
    }
    Atomics.add(this.generation, 0, 1);
    Atomics.notify(this.generation, 0);
  }

  /**
   * Reader: the head once one is published after generation `seen`, with its generation; the
   * same generation when `wake` ended the wait first.
   */
  async next(seen: number): Promise<{ generation: number; head: Frontier }> {
    const waiting = Atomics.waitAsync(this.generation, 0, seen);
    if (waiting.async) await waiting.value;
    return { generation: Atomics.load(this.generation, 0), head: this.read() };
  }

  /** Reader: wakes a pending `next` at once (to stop it). */
  wake(): void {
    Atomics.notify(this.generation, 0);
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
