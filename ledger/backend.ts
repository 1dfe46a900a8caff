import type { Frontier } from '../crdt/index.js';
import type { Ledger, StreamRouter, StreamSpec } from './types.js';

/**
 * What a ledger adapter promises. The contract suite checks every capability an adapter
 * claims, and the runtime makes up for a missing one where it can (without identity dedup,
 * its id window drops re-deliveries).
 */
export interface LedgerCapabilities {
  /** An acknowledged append survives the process being killed, and a reopen finds it. */
  readonly durable: boolean;
  /** A batch is appended whole or not at all: a refusal of any event appends none. */
  readonly atomicBatch: boolean;
  /**
   * A repeated (source, id) is answered with the first receipt instead of being appended
   * again, and the same identity with other content is refused as a `conflict`.
   */
  readonly identityDedup: boolean;
  /**
   * A reader opened in another thread learns of appends only when the writer's side hands
   * it the durable head (the writer is then a DurablePublisher, the reader a HeadFollower);
   * otherwise it waits for appends itself.
   */
  readonly readerFollowsWriter: boolean;
}

/**
 * Consecutive records of one shard that a commit made durable, in the ledger's stored form:
 * a reader that follows the writer may take them instead of reading them back.
 */
export interface DurableBlock {
  position: string;
  /** The seq of its last record; it holds `count` records up to it. */
  lastSeq: string;
  count: number;
  bytes: Uint8Array;
}

/** The writer's side of LedgerCapabilities.readerFollowsWriter. */
export interface DurablePublisher {
  /**
   * Calls `listener` as each commit lands, before its appends resolve, with the durable
   * head and the blocks the commit wrote; returns the unsubscribe function. The listener
   * must not throw.
   */
  onDurable(listener: (head: Frontier, blocks: readonly DurableBlock[]) => void): () => void;
}

/** A reader that learns of appends from the writer's side (LedgerCapabilities.readerFollowsWriter). */
export interface HeadFollower {
  /**
   * Takes in the writer's durable head, waking the reader's waiters of shards that grew.
   * `blocks` (any of those published since the last refresh, or none) are records the
   * reader may then read without reading them back from storage.
   */
  refresh(head: Frontier, blocks?: readonly DurableBlock[]): void;
}

/**
 * A ledger adapter as a module loaded by URL, so that a thread or process that cannot be
 * handed functions (a fold worker) opens the same ledger: the module exports it as
 * `ledgerBackend`. Its config is plain data, since it crosses threads.
 */
export interface LedgerBackend<Config = unknown> {
  readonly capabilities: LedgerCapabilities;
  /** Opens the ledger to append to and read; `streams` is the layout a new ledger gets. */
  open(config: Config, layout: { streams: readonly StreamSpec[]; route: StreamRouter }): Promise<Ledger & Partial<DurablePublisher>>;
  /** Opens a reader of the ledger that another thread or process appends to. */
  openReader(config: Config, route: StreamRouter): Promise<Ledger & Partial<HeadFollower>>;
}
