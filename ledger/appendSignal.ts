/**
 * Wakes readers waiting for new records of a shard. Adapters that learn of appends
 * (memory, embedded, a Redis subscription) call `notify`; readers `wait`.
 */
export class AppendSignal {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(stream: string, shard: number): void {
    const key = `${stream}/${shard}`;
    const waiting = this.waiters.get(key);
    if (!waiting) return;
    this.waiters.delete(key);
    for (const wake of waiting) wake();
  }

  /** Resolves at the next `notify` of the shard, or when `signal` aborts. */
  wait(stream: string, shard: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    const key = `${stream}/${shard}`;
    return new Promise((resolve) => {
      const waiting = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, waiting);
      const wake = (): void => {
        waiting.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      waiting.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Wakes every waiter (on close). */
  notifyAll(): void {
    for (const key of [...this.waiters.keys()]) {
      const [stream, shard] = [key.slice(0, key.lastIndexOf('/')), Number(key.slice(key.lastIndexOf('/') + 1))];
      this.notify(stream, shard);
    }
  }
}
