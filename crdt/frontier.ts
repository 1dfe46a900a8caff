import { dict } from './canonical.js';

/**
 * A frontier (version vector) over ledger positions: for each `stream/shard`, the
 * greatest sequence number reflected. Sequence numbers are canonical decimal strings of
 * any length (Kinesis ones do not fit in a double) and compare as integers.
 */
export type Frontier = Record<string, string>;

const canonicalSeq = /^(0|[1-9][0-9]*)$/;

export function isSeq(text: string): boolean {
  return canonicalSeq.test(text);
}

/** Integer order of canonical decimals: a longer one is larger, else text order. */
export function compareSeq(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Position keys already built, per stream: folds look frontiers up by them once per record. */
const positionKeys = new Map<string, string[]>();
/** Streams and shards past these are keyed afresh each time: the memo stays small. */
const memoStreams = 64;
const memoShards = 1024;

export function positionKey(stream: string, shard: number): string {
  let byShard = positionKeys.get(stream);
  const known = byShard?.[shard];
  if (known !== undefined) return known;
  const key = `${stream}/${shard}`;
  if (!(Number.isInteger(shard) && shard >= 0 && shard < memoShards)) return key;
  if (!byShard) {
    if (positionKeys.size >= memoStreams) return key;
    positionKeys.set(stream, (byShard = []));
  }
  byShard[shard] = key;
  return key;
}

export function parsePositionKey(key: string): { stream: string; shard: number } {
  const slash = key.lastIndexOf('/');
  return { stream: key.slice(0, slash), shard: Number(key.slice(slash + 1)) };
}

export function frontier(): Frontier {
  return dict<string>();
}

/** Raise one position in place; a lower or equal sequence number changes nothing. */
export function frontierAdvance(f: Frontier, position: string, seq: string): void {
  const seen = f[position];
  if (seen === undefined || compareSeq(seq, seen) > 0) f[position] = seq;
}

export function mergeFrontiers(...frontiers: Frontier[]): Frontier {
  const merged = frontier();
  for (const f of frontiers) for (const position of Object.keys(f)) frontierAdvance(merged, position, f[position]!);
  return merged;
}

/** Whether `f` reflects everything `required` does. */
export function frontierCovers(f: Frontier, required: Frontier): boolean {
  for (const position of Object.keys(required)) {
    const seen = f[position];
    if (seen === undefined ? required[position] !== '0' : compareSeq(seen, required[position]!) < 0) return false;
  }
  return true;
}

export function frontiersEqual(a: Frontier, b: Frontier): boolean {
  const positions = Object.keys(a);
  if (positions.length !== Object.keys(b).length) return false;
  for (const position of positions) if (a[position] !== b[position]) return false;
  return true;
}

/** Whether position `seq` of `position` is already reflected by `f`. */
export function frontierHas(f: Frontier, position: string, seq: string): boolean {
  const seen = f[position];
  return seen !== undefined && compareSeq(seq, seen) <= 0;
}
