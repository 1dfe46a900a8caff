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
  const items = top.items;
  const at = items.findIndex((item) => item[0] === key);
  if (at >= 0) {
    if (items[at]![1] >= score) return;
    items.splice(at, 1);
  }
  const entry: [string, number] = [key, score];
  let index = 0;
  while (index < items.length && rank(items[index]!, entry) < 0) index++;
  if (index >= top.k) return;
  items.splice(index, 0, entry);
  if (items.length > top.k) items.length = top.k;
}

export function mergeTopK(a: TopK, b: TopK): TopK {
  const k = Math.min(a.k, b.k);
  const best = new Map<string, number>();
  for (const [key, score] of [...a.items, ...b.items]) best.set(key, Math.max(score, best.get(key) ?? -Infinity));
  const items = [...best].sort(rank).slice(0, k);
  return { k, items };
}
