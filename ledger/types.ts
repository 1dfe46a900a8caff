import type { Frontier } from '../crdt/index.js';

/** A CloudEvents 1.0 event in structured JSON form. `subject` is the partition key. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  /** RFC 3339. */
  time: string;
  subject: string;
  data: Record<string, unknown>;
  /** Optional CloudEvents attributes and extensions, kept as given. */
  [attribute: string]: unknown;
}

export interface StreamSpec {
  readonly name: string;
  readonly shards: number;
}

/** Chooses the stream of an event (the domain decides, by `type`). */
export type StreamRouter = (event: CloudEvent) => string;

/** Where an appended event landed. `seq` is a canonical decimal string. */
export interface Receipt {
  id: string;
  stream: string;
  shard: number;
  seq: string;
  /** True when this (source, id) was already in the ledger: the receipt is the first one. */
  duplicate: boolean;
}

export interface LedgerRecord {
  stream: string;
  shard: number;
  seq: string;
  event: CloudEvent;
}

export interface AppendResult {
  /** One receipt per input event, in input order. */
  receipts: Receipt[];
  /**
   * The durable head when the append was acknowledged: covers this append and every
   * append this ledger acknowledged before it.
   */
  head: Frontier;
}

/**
 * The partitioned log. Keys map to shards by MD5 over 128-bit hash ranges as Kinesis does
 * (`shardOf`); sequence numbers grow within a shard. Every adapter (memory and embedded so
 * far) passes `test/contract/ledger.contract.ts`.
 */
export interface Ledger {
  readonly streams: readonly StreamSpec[];
  /**
   * Appends atomically as a whole batch: the batch is checked first (stream routing,
   * id conflicts) and an error appends nothing. Resolves once every record is durable.
   * The same (source, id) with the same content gives the first receipt with
   * `duplicate: true`; with different content it is a `conflict` error.
   *
   * `texts`, when given, holds for each event the UTF-8 JSON text it was parsed from
   * (JSON.parse of it gives exactly that event): a ledger that stores events as JSON may
   * store these bytes rather than serialize the events again. Others ignore it.
   */
  append(events: readonly CloudEvent[], texts?: readonly Uint8Array[]): Promise<AppendResult>;
  /** Up to `limit` records of one shard with seq > `after` (null: from the start), in order. */
  read(stream: string, shard: number, after: string | null, limit?: number): Promise<LedgerRecord[]>;
  /** The durable head: the last seq of every shard that has any record. */
  head(): Promise<Frontier>;
  /**
   * Resolves once a shard of `streams` holds a record past `after` (a frontier; a shard it
   * leaves out counts from the start), or when `signal` aborts: one wait for a consumer of
   * many shards. An adapter that cannot be notified of appends (as a Kinesis one could not)
   * polls.
   */
  waitForAppend(streams: readonly string[], after: Frontier, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
