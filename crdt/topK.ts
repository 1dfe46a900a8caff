import { compareStrings } from './stamp.js';

/**
 * Bounded top-K: each key keeps its greatest score, and only the K best keys are kept
 * (score descending, then key). Truncating is safe under merge: a key cut from one
 * replica's top K is beaten there by K keys whose scores can only rise elsewhere.
 */
export interface TopK {
  readonly k: number;
  /** [key, score] pairs, best first. */
  items: Array<[string, number]>;
}

export function topK(k: number): TopK {
  return { k, items: [] };
}

function rank(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || compareStrings(a[0], b[0]);
}

/** Offer a key with a score, in place. */
export function topKOffer(top: TopK, key: string, score: number): void {
  // A fold hot path (every product view): one scan each, no splices, no closures.
  const items = top.items;
  let at = 0;
  while (at < items.length && items[at]![0] !== key) at++;
  if (at < items.length && items[at]![1] >= score) return;
  // A raised score ranks at or before its old place, so the old entry does not shift `index`.
  let index = 0;
  while (index < items.length && ranksBefore(items[index]!, key, score)) index++;
  if (index >= top.k) return;
  // The entry leaving its place (the key's own, or the last, pushed off the end) is reused,
  // so once K keys are kept an offer allocates no entry (folds may change state in place).
  const from = at < items.length ? at : Math.min(items.length, top.k - 1);
  const item = items[from] ?? [key, score];
  item[0] = key;
  item[1] = score;
  // Shift the entries from `index` one place down over the leaving one.
  for (let i = from; i > index; i--) items[i] = items[i - 1]!;
  items[index] = item;
  if (items.length > top.k) items.length = top.k;
}

/** Whether `item` ranks before [key, score]: `rank(item, [key, score]) < 0`, without the tuple. */
function ranksBefore(item: [string, number], key: string, score: number): boolean {
  const order = score - item[1];
  return order < 0 || (!(order > 0) && item[0] < key);
}

export function mergeTopK(a: TopK, b: TopK): TopK {
  const k = Math.min(a.k, b.k);
  const best = new Map<string, number>();
  for (const [key, score] of [...a.items, ...b.items]) best.set(key, Math.max(score, best.get(key) ?? -Infinity));
  const items = [...best].sort(rank).slice(0, k);
  return { k, items };
}
