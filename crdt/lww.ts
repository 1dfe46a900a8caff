import { canonicalJson } from './canonical.js';
import { compareStamps, type Stamp } from './stamp.js';

/** Last-writer-wins register: the value of the write with the greatest stamp. */
export interface Lww<T> {
  readonly v: T;
  readonly s: Stamp;
}

/**
 * The winner of two registers. Equal stamps mean the same event, so equal values; the
 * canonical-text tie-break only keeps merge commutative should a caller break that.
 */
export function mergeLww<T>(a: Lww<T> | undefined, b: Lww<T> | undefined): Lww<T> | undefined {
  if (a === undefined) return b;
  if (b === undefined || a === b) return a;
  const order = compareStamps(a.s, b.s);
  if (order !== 0) return order > 0 ? a : b;
  return canonicalJson(a.v) >= canonicalJson(b.v) ? a : b;
}

/** Set a register from a write; the result is the new register (inputs are not changed). */
export function lwwWrite<T>(register: Lww<T> | undefined, v: T, s: Stamp): Lww<T> {
  return mergeLww(register, { v, s })!;
}
