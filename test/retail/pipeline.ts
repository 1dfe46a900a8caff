import { canonicalJson } from '../../crdt/index.js';
import { MemoryLedger } from '../../ledger/memoryLedger.js';
import type { CloudEvent, Ledger, LedgerRecord } from '../../ledger/types.js';
import { EntityStates } from '../../projections/entityStates.js';
import { retailRouter, retailStreams } from '../../retail/catalogue.js';
import { retailProjections } from '../../retail/projections.js';
import { retailViews } from '../../retail/views.js';

export const shards = 4;

export function retailLedger(): MemoryLedger {
  return new MemoryLedger({ streams: retailStreams(shards), route: retailRouter });
}

/** The events cut, in order, into batches of the given sizes (cycled). */
export function batchesOf(events: CloudEvent[], batchSizes: number[] = [1]): CloudEvent[][] {
  const batches: CloudEvent[][] = [];
  for (let at = 0; at < events.length; ) {
    const size = Math.max(1, batchSizes[batches.length % batchSizes.length]!);
    batches.push(events.slice(at, at + size));
    at += size;
  }
  return batches;
}

/** Appends in batches of the given sizes (cycled), in order. */
export async function appendAll(ledger: Ledger, events: CloudEvent[], batchSizes: number[] = [1]): Promise<void> {
  for (const batch of batchesOf(events, batchSizes)) await ledger.append(batch);
}

/** Every record of the ledger, shard by shard. */
export async function allRecords(ledger: Ledger): Promise<LedgerRecord[]> {
  const records: LedgerRecord[] = [];
  for (const { name, shards: count } of ledger.streams) {
    for (let shard = 0; shard < count; shard++) records.push(...(await ledger.read(name, shard, null, Number.MAX_SAFE_INTEGER)));
  }
  return records;
}

export function foldRecords(records: Iterable<LedgerRecord>): EntityStates {
  const states = new EntityStates(retailProjections);
  for (const record of records) states.fold(record);
  return states;
}

/** Canonical JSON of every listed view key, computed over the given states. */
export function viewsOf(states: EntityStates, keys: Array<[string, string]>): Record<string, string> {
  const byName = new Map(retailViews.map((v) => [v.name, v]));
  const out: Record<string, string> = {};
  for (const [view, key] of keys) out[`${view}/${key}`] = canonicalJson(byName.get(view)!.compute(key, states));
  return out;
}
