import { FoldlineError } from '../base/errors.js';

export interface KeyedQueueOptions {
  /** Most tasks running at once (over all keys). */
  concurrency: number;
  /** Most tasks admitted and not yet finished; `push` waits for room beyond it. Default: unbounded. */
  maxPending?: number;
}

interface Job {
  key: string;
  task: () => unknown;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs tasks with side effects: the tasks of one key strictly one after another in
 * submission order, tasks of different keys concurrently under a limit. A failing task
 * rejects its own promise only; the key's later tasks still run. A free slot goes to the
 * waiting key with the most tasks: the longest key's run is the least the whole takes, so it
 * starts first rather than last.
 */
export class KeyedQueue {
  private readonly concurrency: number;
  private readonly maxPending: number;
  /** Admitted, unfinished tasks of each key; the head is running or about to. */
  private readonly byKey = new Map<string, Job[]>();
  /** Keys whose head task waits for a free slot (see ReadyKeys). */
  private readonly ready = new ReadyKeys();
  /** Pushes waiting for room, in submission order. */
  private readonly admissions: Array<() => void> = [];
  private running = 0;
  private pendingCount = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: KeyedQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new FoldlineError('invalid_option', `concurrency must be a positive integer, not ${options.concurrency}`);
    }
    this.concurrency = options.concurrency;
    this.maxPending = options.maxPending ?? Number.POSITIVE_INFINITY;
  }

  /** Admitted tasks not yet finished. */
  get pending(): number {
    return this.pendingCount;
  }

  push<T>(key: string, task: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.admissions.length === 0 && this.pendingCount < this.maxPending) this.admit({ key, task, resolve, reject });
      else this.admissions.push(() => this.admit({ key, task, resolve, reject }));
    });
  }

  /** Resolves when there is room for another task without waiting (for producers that do not await results). */
  space(): Promise<void> {
    if (this.admissions.length === 0 && this.pendingCount < this.maxPending) return Promise.resolve();
    return new Promise((resolve) => this.admissions.push(resolve));
  }

  /** Resolves once every task pushed so far has finished. */
  onIdle(): Promise<void> {
    if (this.pendingCount === 0 && this.admissions.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private admit(job: Job): void {
    this.pendingCount++;
    const queue = this.byKey.get(job.key);
    if (queue) {
      queue.push(job);
      return;
    }
    this.byKey.set(job.key, [job]);
    this.ready.push(job.key, 1);
    this.drain();
  }

  private drain(): void {
    while (this.running < this.concurrency && this.ready.size > 0) {
      const key = this.ready.pop();
      this.running++;
      this.start(this.byKey.get(key)![0]!);
    }
  }

  private start(job: Job): void {
    let result: unknown;
    try {
      result = job.task();
    } catch (error) {
      result = Promise.reject(error);
    }
    Promise.resolve(result).then(
      (value) => {
        job.resolve(value);
        this.finish(job.key);
      },
      (error: unknown) => {
        job.reject(error);
        this.finish(job.key);
      },
    );
  }

  private finish(key: string): void {
    this.running--;
    this.pendingCount--;
    const queue = this.byKey.get(key)!;
    queue.shift();
    if (queue.length > 0) this.ready.push(key, queue.length);
    else this.byKey.delete(key);
    while (this.admissions.length > 0 && this.pendingCount < this.maxPending) this.admissions.shift()!();
    this.drain();
    if (this.pendingCount === 0 && this.admissions.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}

/**
 * Ready keys as a binary max-heap: most tasks waiting first (as counted when the key became
 * ready), then the earliest to become ready.
 */
class ReadyKeys {
  private readonly heap: Array<{ key: string; tasks: number; order: number }> = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  push(key: string, tasks: number): void {
    const heap = this.heap;
    heap.push({ key, tasks, order: this.counter++ });
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(at, parent)) break;
      [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
      at = parent;
    }
  }

  pop(): string {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        const right = left + 1;
        let first = at;
        if (left < heap.length && this.before(left, first)) first = left;
        if (right < heap.length && this.before(right, first)) first = right;
        if (first === at) break;
        [heap[at], heap[first]] = [heap[first]!, heap[at]!];
        at = first;
      }
    }
    return top.key;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.tasks !== y.tasks ? x.tasks > y.tasks : x.order < y.order;
  }
}
