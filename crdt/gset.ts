import { compareStrings } from './stamp.js';

/** Grow-only set of strings, kept sorted in plain string order. */
export type GSet = string[];

/** Insert in place; returns whether the item was new. */
export function gsetAdd(set: GSet, item: string): boolean {
  // Ids often grow (orders, images): appending needs no search and moves nothing.
  if (set.length === 0 || set[set.length - 1]! < item) {
    set.push(item);
    return true;
  }
  let low = 0;
  let high = set.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (set[mid]! < item) low = mid + 1;
    else high = mid;
  }
  if (set[low] === item) return false;
  set.splice(low, 0, item);
  return true;
}

export function mergeGSets(a: GSet, b: GSet): GSet {
  const merged: GSet = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const order = j >= b.length ? -1 : i >= a.length ? 1 : compareStrings(a[i]!, b[j]!);
    if (order <= 0) merged.push(a[i++]!);
    else merged.push(b[j++]!);
    if (order === 0) j++;
  }
  return merged;
}
