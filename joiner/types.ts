import type { Frontier } from '../crdt/index.js';
import type { FoldedBatch } from '../projections/runtime.js';
import type { EntityRecord, ProjectionDefinition } from '../projections/types.js';

export type { FoldedBatch };

/**
 * Read access to entity states while computing a view. Synchronous so that view code
 * stays plain and fast: a state not yet loaded makes the engine load it and run the
 * computation again (each round loads everything the last one asked for).
 */
export interface Lookup {
  /**
   * The state of `projection`'s entity `key`, or undefined when nothing was ever folded into
   * it. A view names the projection itself, not its namespace, so that the state's type
   * follows the projection and renaming or retyping it breaks the views that read it.
   */
  get<S>(projection: ProjectionDefinition<S>, key: string): S | undefined;
}

/**
 * A view: a pure function of entity states. Every entity it reads through `lookup` becomes
 * a dependency, so a change to that entity recomputes this view key and nothing else.
 * Reads may depend on earlier reads (a cart's skus name the products to read): such
 * foreign-key joins converge whichever side arrived first.
 */
export interface ViewDefinition<V = unknown> {
  readonly name: string;
  /** Throws a FoldlineError (404, 'unknown_key' or 400) for a key this view can never have. */
  checkKey?(key: string): void;
  /**
   * Projections each of whose entity keys is a key of this view (a cart per customer): what
   * lets the change stream follow every key of the view, not only the keys read so far. A
   * view without them cannot be streamed.
   */
  readonly keysFrom?: readonly ProjectionDefinition<any>[];
  compute(key: string, lookup: Lookup): V;
}

/** Where view inputs come from: a projection runtime (or several, behind one facade). */
export interface EntitySource {
  /**
   * The entity's record, reflecting at least every batch this source has told of before the
   * promise resolves. A source may carry the records of the entities read through it in
   * later folded batches, until released.
   */
  get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined>;
  /** The reader no longer holds this entity: its records need not come with folded batches. */
  release?(namespace: string, key: string): void;
  /** Everything folded so far. */
  frontier(): Frontier;
  /** Called after every folded batch (its records durable in the ledger, its store commit maybe not yet), in order. */
  onFolded(listener: (batch: FoldedBatch) => void): () => void;
}

/** A view value and the ledger positions it reflects (at least). */
export interface ViewValue<V = unknown> {
  view: string;
  key: string;
  value: V;
  /** `value` as JSON text, serialized once for every push and read that carries it. */
  json: string;
  frontier: Frontier;
  /** On a published value: the W3C trace of the (last) traced event that caused it. */
  traceparent?: string;
}
