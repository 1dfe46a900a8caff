import { createHash } from 'node:crypto';
import { FoldlineError } from '../base/errors.js';
import { canonicalJson } from '../crdt/index.js';
import { shardOf } from './shards.js';
import type { CloudEvent, Receipt, StreamRouter, StreamSpec } from './types.js';

/** What a ledger remembers of an appended (source, id) to answer a repeat. */
export interface StoredIdentity {
  stream: string;
  shard: number;
  seq: string;
  digest: string;
}

/** One input event's fate: a new record to write, or the receipt of an earlier one. */
export type PlannedAppend =
  | { kind: 'new'; identity: string; stream: string; shard: number; event: CloudEvent }
  | { kind: 'known'; receipt: Receipt }
  /** A repeat, within this batch, of the new record at `first`. */
  | { kind: 'repeat'; first: number };

export function identityOf(event: CloudEvent): string {
  return JSON.stringify([event.source, event.id]);
}

export function digestOf(event: CloudEvent): string {
  return createHash('sha1').update(canonicalJson(event)).digest('base64url');
}

/**
 * Decides, before anything is written, where each event of a batch goes. Throws (and so
 * appends nothing) on an unknown stream or on an id reused with other content. Digests
 * are computed only to compare a repeat with its original: canonical JSON is the
 * costliest step of an append. A null `lookup` plans for a ledger that keeps no
 * identities (an at-least-once source): every event is new, a repeat included.
 */
export function planAppend(
  events: readonly CloudEvent[],
  streams: readonly StreamSpec[],
  route: StreamRouter,
  lookup: ((identity: string) => StoredIdentity | undefined) | null,
): PlannedAppend[] {
  const shardCounts = new Map(streams.map((s) => [s.name, s.shards]));
  const firstInBatch = new Map<string, number>();
  return events.map((event, index): PlannedAppend => {
    const identity = identityOf(event);
    const stored = lookup?.(identity);
    if (stored) {
      if (stored.digest !== digestOf(event)) throw conflict(event, index);
      return { kind: 'known', receipt: { id: event.id, stream: stored.stream, shard: stored.shard, seq: stored.seq, duplicate: true } };
    }
    const first = firstInBatch.get(identity);
    if (first !== undefined) {
      if (digestOf(events[first]!) !== digestOf(event)) throw conflict(event, index);
      return { kind: 'repeat', first };
    }
    const stream = route(event);
    const shards = shardCounts.get(stream);
    if (shards === undefined) {
      throw new FoldlineError('unknown_stream', `no stream ${JSON.stringify(stream)} for type ${JSON.stringify(event.type)}`, { index,
        path: '/type',
      });
    }
    if (lookup) firstInBatch.set(identity, index);
    return { kind: 'new', identity, stream, shard: shardOf(event.subject, shards), event };
  });
}

function conflict(event: CloudEvent, index: number): FoldlineError {
  return new FoldlineError(
    'conflict',
    `event ${JSON.stringify(event.id)} from ${JSON.stringify(event.source)} was already appended with different content`,
    { index, path: '/id' },
  );
}

/**
 * Receipts in input order once the new records have their sequence numbers
 * (`seqs[i]` for the i-th planned entry of kind 'new', null otherwise).
 */
export function receiptsOf(plan: readonly PlannedAppend[], seqs: ReadonlyArray<string | null>): Receipt[] {
  const receipts: Receipt[] = [];
  plan.forEach((entry, index) => {
    if (entry.kind === 'known') receipts.push(entry.receipt);
    else if (entry.kind === 'repeat') receipts.push({ ...receipts[entry.first]!, duplicate: true });
    else receipts.push({ id: entry.event.id, stream: entry.stream, shard: entry.shard, seq: seqs[index]!, duplicate: false });
  });
  return receipts;
}
