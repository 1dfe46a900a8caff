import { canonicalJson } from '../../crdt/index.js';
import type { Lookup, ViewDefinition } from '../../joiner/types.js';
import type { ProjectionDefinition, StateStore } from '../../projections/types.js';

/** Every entity of the projections' namespaces in a store, as canonical JSON of its state, by `namespace/key`. */
export async function storeStates(store: StateStore, projections: readonly ProjectionDefinition[]): Promise<Map<string, Map<string, unknown>>> {
  const out = new Map<string, Map<string, unknown>>();
  for (const { name } of projections) {
    const states = new Map<string, unknown>();
    for await (const key of store.keys(name)) states.set(key, (await store.get(name, key))!.state);
    out.set(name, states);
  }
  return out;
}

/** Canonical JSON of each entity state, by `namespace/key`. */
export function canonicalStates(states: Map<string, Map<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [namespace, entities] of states) for (const [key, state] of entities) out[`${namespace}/${key}`] = canonicalJson(state);
  return out;
}

/** Canonical JSON of every listed view key, computed over a store's states. */
export function viewsOverStates(states: Map<string, Map<string, unknown>>, views: readonly ViewDefinition[], keys: Array<[string, string]>): Record<string, string> {
  const lookup: Lookup = { get: <S>(projection: ProjectionDefinition<S>, key: string) => states.get(projection.name)?.get(key) as S | undefined };
  const byName = new Map(views.map((view) => [view.name, view]));
  const out: Record<string, string> = {};
  for (const [view, key] of keys) out[`${view}/${key}`] = canonicalJson(byName.get(view)!.compute(key, lookup));
  return out;
}
