/**
 * Wakes readers waiting for new records of some streams. Adapters that learn of appends
 * (memory, embedded) call `notify`; readers `wait`. One waiter is one callback per stream
 * it watches, however many shards those have.
 */
export class AppendSignal {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(stream: string): void {
    const waiting = this.waiters.get(stream);
    if (!waiting) return;
    this.waiters.delete(stream);
    for (const wake of waiting) wake();
  }

  /** Resolves at the next `notify` of one of `streams`, or when `signal` aborts. */
  wait(streams: readonly string[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        for (const stream of streams) this.waiters.get(stream)?.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      for (const stream of streams) {
        let waiting = this.waiters.get(stream);
        if (!waiting) this.waiters.set(stream, (waiting = new Set()));
        waiting.add(wake);
      }
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Wakes every waiter (on close). */
  notifyAll(): void {
    for (const stream of [...this.waiters.keys()]) this.notify(stream);
  }
}
