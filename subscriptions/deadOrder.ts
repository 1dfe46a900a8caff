import type { DeadDelivery } from './types.js';

/**
 * One dead letter per event position, listed in ledger order: the seq is prefixed with its
 * length so that string order of the tuple is numeric order of the seq.
 */
export function deadTuple(letter: Pick<DeadDelivery, 'position' | 'seq'>): string[] {
  return [letter.position, String.fromCharCode(letter.seq.length) + letter.seq];
}

export function deadId(letter: Pick<DeadDelivery, 'position' | 'seq'>): string {
  return deadTuple(letter).join('\u0000');
}
