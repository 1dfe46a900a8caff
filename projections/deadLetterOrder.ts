import type { DeadLetter } from './types.js';

/*
 * Stores keep one dead letter per (position, seq, projection, key), so a batch replayed
 * after a partial commit rewrites the same letter instead of adding a second, and list
 * them in ledger order. The seq is prefixed with its length so that string order of the
 * tuple is numeric order of the seq.
 */
export function deadLetterTuple(letter: DeadLetter): string[] {
  return [letter.position, String.fromCharCode(letter.seq.length) + letter.seq, letter.projection, letter.key];
}

export function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}
