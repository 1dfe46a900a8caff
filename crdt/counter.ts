import { fastDict } from './canonical.js';

/**
 * Positive-negative counter with one entry per replica. Each replica only ever raises its
 * own totals, so merge takes the larger of each and a replica's counts are never added
 * twice. In foldline the replica is the ledger shard an event came from.
 */
export type PnCounter = Record<string, { p: number; n: number }>;

/** A fast-mode dictionary: counters share the same few replica keys, and `counterAdd` is hot. */
export function pnCounter(): PnCounter {
  return fastDict();
}

/** Add `delta` (either sign) to `replica`'s totals, in place. */
export function counterAdd(counter: PnCounter, replica: string, delta: number): void {
  const entry = counter[replica] ?? (counter[replica] = { p: 0, n: 0 });
  if (delta >= 0) entry.p += delta;
  else entry.n -= delta;
}

export function counterValue(counter: PnCounter): number {
  let total = 0;
  for (const replica of Object.keys(counter)) total += counter[replica]!.p - counter[replica]!.n;
  return total;
}

export function mergeCounters(a: PnCounter, b: PnCounter): PnCounter {
  const merged = pnCounter();
  for (const source of [a, b]) {
    for (const replica of Object.keys(source)) {
      const entry = source[replica]!;
      const seen = merged[replica];
      merged[replica] = seen
        ? { p: Math.max(seen.p, entry.p), n: Math.max(seen.n, entry.n) }
        : { p: entry.p, n: entry.n };
    }
  }
  return merged;
}
