import type { Lww } from './lww.js';
import { compareStamps, type Stamp } from './stamp.js';

/**
 * Every stamped write, kept in stamp order, so that both the current value (the last) and
 * the value in effect at any earlier time (as-of) can be read. Grows with each distinct
 * write; merge is the union.
 */
export type History<T> = Array<Lww<T>>;

/** Add a write in place; a stamp already present is the same event and changes nothing. */
export function historyAdd<T>(history: History<T>, v: T, s: Stamp): void {
  let at = history.length;
  while (at > 0 && compareStamps(history[at - 1]!.s, s) > 0) at--;
  if (at > 0 && compareStamps(history[at - 1]!.s, s) === 0) return;
  history.splice(at, 0, { v, s });
}

export function mergeHistories<T>(a: History<T>, b: History<T>): History<T> {
  const merged: History<T> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const order = j >= b.length ? -1 : i >= a.length ? 1 : compareStamps(a[i]!.s, b[j]!.s);
    if (order <= 0) merged.push(a[i++]!);
    else merged.push(b[j++]!);
    if (order === 0) j++;
  }
  return merged;
}

/** The last write, by stamp. */
export function historyLatest<T>(history: History<T>): Lww<T> | undefined {
  return history[history.length - 1];
}

/** The last write whose time is at or before `time` (ms). */
export function historyAsOf<T>(history: History<T>, time: number): Lww<T> | undefined {
  for (let at = history.length - 1; at >= 0; at--) if (history[at]!.s.t <= time) return history[at];
  return undefined;
}
