import { dict } from './canonical.js';
import { mergeLww, type Lww } from './lww.js';
import type { Stamp } from './stamp.js';

/**
 * Last-writer-wins map: one register per key; writing null removes the key but keeps its
 * stamp (a tombstone), so a late, older write cannot bring it back. Prototype-free, so
 * `__proto__` and `constructor` are ordinary keys.
 */
export type LwwMap<T> = Record<string, Lww<T | null>>;

export function lwwMap<T>(): LwwMap<T> {
  return dict<Lww<T | null>>();
}

/** Write one key in place (fold hot path). */
export function lwwMapSet<T>(map: LwwMap<T>, key: string, v: T | null, s: Stamp): void {
  map[key] = mergeLww(map[key], { v, s })!;
}

export function mergeLwwMaps<T>(a: LwwMap<T>, b: LwwMap<T>): LwwMap<T> {
  const merged = lwwMap<T>();
  for (const key of Object.keys(a)) merged[key] = a[key]!;
  for (const key of Object.keys(b)) merged[key] = mergeLww(merged[key], b[key])!;
  return merged;
}

/** The live entries, keys in string order. */
export function lwwMapValues<T>(map: LwwMap<T>): Record<string, T> {
  const values = dict<T>();
  for (const key of Object.keys(map).sort()) {
    const v = map[key]!.v;
    if (v !== null) values[key] = v;
  }
  return values;
}
