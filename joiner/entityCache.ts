import { LruCache } from '../base/lruCache.js';
import { pairKey } from '../base/pairKey.js';
import type { EntityRecord } from '../projections/types.js';
import type { EntitySource, FoldedBatch } from './types.js';

/**
 * The entity states view computations read, kept in memory so that a view computes
 * synchronously. Folded batches refresh the entries they touch; a load that started before
 * a batch was told of never overwrites what that batch carried. An entry the cache drops is
 * released to the source, which may then stop sending its records.
 */
export class EntityCache {
  private readonly states: LruCache<string, { namespace: string; key: string; state: unknown }>;
  private readonly loading = new Map<string, Promise<unknown>>();
  /** Loads in flight that a folded batch carrying the record overtook: the batch's state stands. */
  private readonly superseded = new Set<string>();

  constructor(
    private readonly source: EntitySource,
    capacity: number,
  ) {
    this.states = new LruCache(capacity, (_id, entry) => this.source.release?.(entry.namespace, entry.key));
  }

  has(id: string): boolean {
    return this.states.has(id);
  }

  /** The cached state (undefined: the entity has none); call `has` first. */
  peek(id: string): unknown {
    return this.states.get(id)!.state;
  }

  /** Loads an entity into the cache; resolves to its state as of the load or a later folded batch. */
  load(namespace: string, key: string): Promise<unknown> {
    const id = pairKey(namespace, key);
    const pending = this.loading.get(id);
    if (pending) return pending;
    const load = this.source.get(namespace, key).then(
      (record: EntityRecord | undefined) => {
        this.loading.delete(id);
        if (this.superseded.delete(id)) return this.states.get(id)?.state;
        this.states.set(id, { namespace, key, state: record?.state });
        return record?.state;
      },
      (error: unknown) => {
        this.loading.delete(id);
        this.superseded.delete(id);
        throw error;
      },
    );
    this.loading.set(id, load);
    return load;
  }

  /** Applies a folded batch; returns the ids of the entities it changed, in the batch's order. */
  applyFolded(batch: FoldedBatch): string[] {
    return batch.entities.map((entity) => {
      const id = pairKey(entity.namespace, entity.key);
      const held = this.states.has(id) || this.loading.has(id);
      if (!held) return id;
      // `record` is read only for entities held here: a source may decode it on first read.
      const record = entity.record;
      if (record === undefined) {
        // Changed, but its record did not come along: read it again when next needed (a load
        // in flight already reflects this change, as EntitySource.get promises).
        this.superseded.delete(id);
        if (this.states.delete(id)) this.source.release?.(entity.namespace, entity.key);
        return id;
      }
      if (this.loading.has(id)) this.superseded.add(id);
      this.states.set(id, { namespace: entity.namespace, key: entity.key, state: record.state });
      return id;
    });
  }
}
