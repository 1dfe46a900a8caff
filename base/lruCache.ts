interface Entry<K, V> {
  readonly key: K;
  value: V;
  older: Entry<K, V> | undefined;
  newer: Entry<K, V> | undefined;
}

/**
 * A map that forgets its least recently used entries beyond `capacity`, telling `onEvict`.
 * Recency is a linked list beside the Map, so every operation is O(1): re-inserting into a
 * Map to mark an entry recent leaves a hole at its old place, and finding the oldest entry
 * by iteration then steps over every hole left since the Map last compacted, so evictions
 * grew slow (docs/benchmarks.md).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, Entry<K, V>>();
  private newest: Entry<K, V> | undefined;
  private oldest: Entry<K, V> | undefined;

  constructor(
    private readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether the key is held; its recency stays as it was. */
  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The value, now the most recent; undefined when not held. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.touch(entry);
    return entry.value;
  }

  /** Holds the value as the most recent, then evicts the oldest entries beyond capacity. */
  set(key: K, value: V): void {
    const held = this.entries.get(key);
    if (held) {
      held.value = value;
      this.touch(held);
    } else {
      const entry: Entry<K, V> = { key, value, older: this.newest, newer: undefined };
      if (this.newest) this.newest.newer = entry;
      else this.oldest = entry;
      this.newest = entry;
      this.entries.set(key, entry);
    }
    while (this.entries.size > this.capacity) {
      const oldest = this.oldest!;
      this.remove(oldest);
      this.onEvict?.(oldest.key, oldest.value);
    }
  }

  /** Forgets the key without telling `onEvict`; whether it was held. */
  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.remove(entry);
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.newest = this.oldest = undefined;
  }

  private touch(entry: Entry<K, V>): void {
    if (entry === this.newest) return;
    this.unlink(entry);
    entry.older = this.newest;
    entry.newer = undefined;
    this.newest!.newer = entry;
    this.newest = entry;
  }

  private remove(entry: Entry<K, V>): void {
    this.entries.delete(entry.key);
    this.unlink(entry);
  }

  private unlink(entry: Entry<K, V>): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
  }
}
