import { positionKey } from '../crdt/index.js';
import type { LedgerRecord } from '../ledger/types.js';
import type { ProjectionDefinition } from './types.js';

/**
 * Entity states held in memory and folded record by record with no I/O, no checkpoint and
 * no dedup: the caller supplies each record once. For offline work that wants raw speed
 * (benchmarks, replicas compared in tests, a rebuild that writes its result in bulk).
 */
export class EntityStates {
  private readonly namespaces = new Map<string, Map<string, unknown>>();
  private readonly byStream = new Map<string, ProjectionDefinition[]>();

  constructor(private readonly definitions: readonly ProjectionDefinition[]) {
    for (const definition of definitions) {
      for (const stream of definition.streams) this.byStream.set(stream, [...(this.byStream.get(stream) ?? []), definition]);
    }
  }

  fold(record: LedgerRecord): void {
    const context = { position: positionKey(record.stream, record.shard), seq: record.seq };
    for (const definition of this.byStream.get(record.stream) ?? []) {
      const states = this.states(definition.name);
      for (const key of definition.keysOf(record.event)) {
        states.set(key, definition.fold(states.get(key) ?? definition.initial(key), record.event, key, context));
      }
    }
  }

  /** Merges another replica's states into these (CRDT merge per entity). */
  mergeFrom(other: EntityStates): void {
    for (const definition of this.definitions) {
      const mine = this.states(definition.name);
      for (const [key, state] of other.states(definition.name)) {
        const current = mine.get(key);
        mine.set(key, current === undefined ? state : definition.merge(current, state));
      }
    }
  }

  get<S>(namespace: string, key: string): S | undefined {
    return this.namespaces.get(namespace)?.get(key) as S | undefined;
  }

  /** Every entity key of a namespace. */
  keys(namespace: string): IterableIterator<string> {
    return this.states(namespace).keys();
  }

  private states(namespace: string): Map<string, unknown> {
    let states = this.namespaces.get(namespace);
    if (!states) this.namespaces.set(namespace, (states = new Map()));
    return states;
  }
}
