import type { Frontier } from '../crdt/index.js';
import type { CloudEvent } from '../ledger/types.js';

/**
 * One entity key, or any number of them. Most events touch one entity, and the key is
 * returned bare: an array per event per projection made the fold measurably slower
 * (docs/benchmarks.md).
 */
export type EntityKeys = string | readonly string[];

/** Where the event being folded sits in the ledger. */
export interface FoldContext {
  /** `stream/shard`: the replica id for per-shard CRDT counters. */
  readonly position: string;
  readonly seq: string;
}

/**
 * What to compute, apart from how it runs: a projection folds events of some streams into
 * one CRDT state per entity key. Its functions depend only on their arguments; `fold` may
 * change `state` in place and return it. A fold that throws rejects its event, even after
 * changing `state`: the runtime dead-letters the event and rebuilds the entity from its
 * committed state and the open commit window's other records for it (CommitWindow), and the
 * batch's listeners get the rebuilt record. So a fold must fold the same records the same
 * way again (one that throws the second time is dead-lettered too). For the views to
 * converge, folding must not depend on order and `merge` must be associative, commutative
 * and idempotent.
 */
export interface ProjectionDefinition<S = unknown> {
  /** Also the namespace its entity states are stored under. */
  readonly name: string;
  readonly streams: readonly string[];
  /** The event types it folds; absent: every type of its streams. Others never reach `keysOf`. */
  readonly types?: readonly string[];
  /** The entity keys an event touches (none: the projection ignores it). */
  keysOf(event: CloudEvent): EntityKeys;
  initial(key: string): S;
  fold(state: S, event: CloudEvent, key: string, context: FoldContext): S;
  merge(a: S, b: S): S;
}

/** An entity's stored state and the ledger positions folded into it. */
export interface EntityRecord<S = unknown> {
  state: S;
  frontier: Frontier;
}

/** A consumer's progress: per-shard positions and a window of recent event identities. */
export interface Checkpoint {
  frontier: Frontier;
  /** Identities (`[source,id]` JSON) of recently folded events, oldest first, bounded. */
  recentIds: string[];
  /**
   * The projections whose states it covers (a store that does not keep them returns none): a
   * projection new to the consumer is told apart from one that has folded everything so far
   * (service/newProjections.ts).
   */
  projections?: string[];
}

export interface DeadLetter {
  consumer: string;
  projection: string;
  key: string;
  position: string;
  seq: string;
  event: CloudEvent;
  reason: string;
  /** ISO time it was dead-lettered. */
  at: string;
}

/** Everything a commit window's batches changed, written all or nothing. */
export interface StateCommit {
  consumer: string;
  entities: Array<{ namespace: string; key: string; record: EntityRecord }>;
  checkpoint: Checkpoint;
  deadLetters: DeadLetter[];
}

/**
 * Durable entity state. Every adapter (memory and embedded so far) passes
 * `test/contract/stateStore.contract.ts`. `commit` is atomic where the backend allows it;
 * on one that does not (DynamoDB, say), entity frontiers make a replay after a partial
 * commit harmless, since the runtime skips events an entity already reflects, provided the
 * store writes the dead letters first and the checkpoint last (else a replay skips an
 * entity's rejected event and its dead letter is lost).
 */
export interface StateStore {
  get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined>;
  getMany<S>(namespace: string, keys: readonly string[]): Promise<Array<EntityRecord<S> | undefined>>;
  /** Every key of a namespace in string order (for rebuilds and tests). */
  keys(namespace: string): AsyncIterable<string>;
  commit(commit: StateCommit): Promise<void>;
  checkpoint(consumer: string): Promise<Checkpoint | undefined>;
  deadLetters(consumer: string): Promise<DeadLetter[]>;
  close(): Promise<void>;
}
