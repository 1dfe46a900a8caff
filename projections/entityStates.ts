import { positionKey } from '../crdt/index.js';
import type { LedgerRecord } from '../ledger/types.js';
import { ProjectionRouting } from './routing.js';
import type { FoldContext, ProjectionDefinition } from './types.js';

/**
 * Entity states held in memory and folded record by record with no I/O, no checkpoint and
 * no dedup: the caller supplies each record once. For offline work that wants raw speed
 * (benchmarks, replicas compared in tests, a rebuild that writes its result in bulk).
 */
export class EntityStates {
  private readonly namespaces = new Map<string, Map<string, unknown>>();
  private readonly routing: ProjectionRouting;
  /** One context per shard with its seq moved along (folds read it only while they run). */
  private readonly contexts = new Map<string, Array<{ -readonly [P in keyof FoldContext]: FoldContext[P] }>>();

  constructor(private readonly definitions: readonly ProjectionDefinition[]) {
    this.routing = new ProjectionRouting(definitions);
  }

  fold(record: LedgerRecord): void {
    const definitions = this.routing.projectionsFor(record.stream, record.event.type);
    if (definitions.length === 0) return;
    const shards = this.contexts.get(record.stream) ?? this.contexts.set(record.stream, []).get(record.stream)!;
    const context = shards[record.shard] ?? (shards[record.shard] = { position: positionKey(record.stream, record.shard), seq: '' });
    context.seq = record.seq;
    for (const definition of definitions) {
      const states = this.states(definition.name);
      for (const key of definition.keysOf(record.event)) {
        const state = states.get(key);
        const folded = definition.fold(state ?? definition.initial(key), record.event, key, context);
        if (folded !== state) states.set(key, folded);
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
