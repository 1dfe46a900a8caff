import { pairKey } from '../base/pairKey.js';
import type { ProjectionDefinition } from '../projections/types.js';
import type { EntityCache } from './entityCache.js';
import type { Lookup, ViewDefinition } from './types.js';

export interface Computed {
  value: unknown;
  /** Ids of every entity the computation read. */
  dependencies: Set<string>;
}

/**
 * Runs a view's pure function with a tracking lookup. Entities missing from the cache read
 * as unknown for that round; once the round ends they are all loaded at once and the view
 * runs again, until a round reads nothing new (rounds = the depth of the join).
 */
export async function computeView(
  definition: ViewDefinition,
  key: string,
  cache: EntityCache,
  /** Receives every entity read in any round, as it is read. */
  reads: Set<string>,
): Promise<Computed> {
  const loaded = new Map<string, unknown>();
  for (;;) {
    const dependencies = new Set<string>();
    const missing: Array<[string, string]> = [];
    const lookup: Lookup = {
      get<S>(projection: ProjectionDefinition<S>, entityKey: string): S | undefined {
        const namespace = projection.name;
        const id = pairKey(namespace, entityKey);
        dependencies.add(id);
        reads.add(id);
        if (loaded.has(id)) return loaded.get(id) as S | undefined;
        if (cache.has(id)) return cache.peek(id) as S | undefined;
        missing.push([namespace, entityKey]);
        return undefined;
      },
    };
    const value = definition.compute(key, lookup);
    if (missing.length === 0) return { value, dependencies };
    const states = await Promise.all(missing.map(([namespace, entityKey]) => cache.load(namespace, entityKey)));
    missing.forEach(([namespace, entityKey], i) => loaded.set(pairKey(namespace, entityKey), states[i]));
  }
}
