import { positionKey } from '../crdt/index.js';
import type { LedgerRecord } from '../ledger/types.js';
import { ProjectionRouting } from './routing.js';
import type { FoldContext, ProjectionDefinition } from './types.js';

type Context = { -readonly [P in keyof FoldContext]: FoldContext[P] };

/** A projection that folds some event type, with its namespace's states. */
type Target = { definition: ProjectionDefinition; states: Map<string, unknown> };

/** What a stream's records need, looked up once per record rather than once per projection. */
interface StreamRoute {
  byType: Map<string, Target[]>;
  /** One context per shard with its seq moved along (folds read it only while they run). */
  shards: Context[];
}

function foldInto(definition: ProjectionDefinition, states: Map<string, unknown>, key: string, record: LedgerRecord, context: FoldContext): void {
  const state = states.get(key);
  const folded = definition.fold(state ?? definition.initial(key), record.event, key, context);
  if (folded !== state) states.set(key, folded);
}

/**
 * Entity states held in memory and folded record by record with no I/O, no checkpoint and
 * no dedup: the caller supplies each record once. For offline work that wants raw speed
 * (benchmarks, replicas compared in tests, a rebuild that writes its result in bulk).
 */
export class EntityStates {
  private readonly namespaces = new Map<string, Map<string, unknown>>();
  private readonly routing: ProjectionRouting;
  private readonly streams = new Map<string, StreamRoute>();

  constructor(private readonly definitions: readonly ProjectionDefinition[]) {
    this.routing = new ProjectionRouting(definitions);
  }

  fold(record: LedgerRecord): void {
    const route = this.streams.get(record.stream) ?? this.route(record.stream);
    const type = record.event.type;
    const targets = route.byType.get(type) ?? this.targets(route, record.stream, type);
    if (targets.length === 0) return;
    const context = route.shards[record.shard] ?? (route.shards[record.shard] = { position: positionKey(record.stream, record.shard), seq: '' });
    context.seq = record.seq;
    for (const { definition, states } of targets) {
      const keys = definition.keysOf(record.event);
      if (typeof keys === 'string') foldInto(definition, states, keys, record, context);
      else for (const key of keys) foldInto(definition, states, key, record, context);
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

  /** The state of `projection`'s entity `key`: these states serve as a view's lookup. */
  get<S>(projection: ProjectionDefinition<S>, key: string): S | undefined {
    return this.namespaces.get(projection.name)?.get(key) as S | undefined;
  }

  /** Every entity key of a projection. */
  keys(projection: ProjectionDefinition): IterableIterator<string> {
    return this.states(projection.name).keys();
  }

  /** How many entities of a projection are held. */
  count(projection: ProjectionDefinition): number {
    return this.states(projection.name).size;
  }

  /** The state of an entity, no longer held here (so that its memory goes once handed on). */
  take<S>(projection: ProjectionDefinition<S>, key: string): S | undefined {
    const states = this.states(projection.name);
    const state = states.get(key) as S | undefined;
    states.delete(key);
    return state;
  }

  private route(stream: string): StreamRoute {
    const route: StreamRoute = { byType: new Map(), shards: [] };
    this.streams.set(stream, route);
    return route;
  }

  private targets(route: StreamRoute, stream: string, type: string): Target[] {
    const targets = this.routing.projectionsFor(stream, type).map((definition) => ({ definition, states: this.states(definition.name) }));
    route.byType.set(type, targets);
    return targets;
  }

  private states(namespace: string): Map<string, unknown> {
    let states = this.namespaces.get(namespace);
    if (!states) this.namespaces.set(namespace, (states = new Map()));
    return states;
  }
}
