import type { DecodedChange } from '@automerge/automerge';
import type { CloudEvent } from '../../ledger/types.js';

/** A device's change as a mapping turns it into events: its hash, its time, what it adds to each counter. */
export interface DeviceChange {
  hash: string;
  /** The change's own time (ISO 8601), as the device's clock set it. */
  time: string;
  amounts: ReadonlyMap<string, number>;
}

/**
 * How a domain's synced documents mirror one of its views (docs/offline.md): one Automerge
 * document per key of `view`, holding named counters. Devices edit their copy; the engine
 * turns each device change into events through `events`, and keeps the server's copy equal to
 * what the ledger holds (the view's counters) plus the device changes not yet folded.
 */
export interface DocumentMapping<Doc = any> {
  /**
   * The view whose keys name documents: reading its key is what syncing that document takes
   * (the access policy's `canRead`), and its value is the ledger's side of the document.
   */
  readonly view: string;
  /** The gateway route answering a document's automerge URL, with `{key}` for the view key (e.g. `/v1/things/{key}/document`). */
  readonly route: string;
  /** Fills a new document: run once with a fixed actor and time, so every copy starts from the same change. */
  initial(doc: Doc): void;
  /** The counters the document shows, by name. */
  counters(doc: Doc): Map<string, number>;
  /** The counters a value of `view` says the ledger holds, by name. */
  ledgerCounters(value: unknown): Map<string, number>;
  /**
   * What a device's change adds to each counter, read from its operations; `doc` is the
   * document with the change applied, for the object ids of counters made earlier.
   */
  changeAmounts(change: DecodedChange, doc: Doc): Map<string, number>;
  /** Adds `amount` to counter `name` inside a change, making the counter if it is missing. */
  add(doc: Doc, name: string, amount: number): void;
  /** The events that record a device change: ids derived from its hash, time its time. */
  events(key: string, change: DeviceChange): CloudEvent[];
}
