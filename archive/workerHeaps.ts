import { setFlagsFromString } from 'node:v8';

/**
 * Sets V8's heap flags for the rebuild's worker threads before they start: the flags are the
 * process's, and V8 reads them when it creates a thread's heap (the growing factor at each
 * major GC). The service's `--initial-old-space-size=256` (cli/heapFlags.ts, which
 * bin/foldline.js always passes) would let each worker's old space fill with that much
 * garbage before its first major GC, on top of the states it holds: the workers get V8's
 * own first limit instead. And a heap grows by half of what a major GC left, not by V8's
 * up-to-fourfold, so that the workers' states, not garbage, make the process's memory, for
 * some more major GCs (docs/archive.md, "Performance").
 */
export function boundWorkerHeaps(): void {
  setFlagsFromString('--initial-old-space-size=0');
  setFlagsFromString('--heap-growing-percent=50');
  // For `collectFoldGarbage`: V8 gives `gc` to the contexts of heaps made after this.
  setFlagsFromString('--expose-gc');
}

/**
 * In a worker whose fold is done: one full collection before it hands its states back.
 * What the fold left (parsed events, a bare export's dedup table) would otherwise still be
 * resident while the coordinator merges and the store grows, the rebuild's highest point.
 */
export function collectFoldGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
