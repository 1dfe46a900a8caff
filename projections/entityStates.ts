import { decodeState, encodeState, positionKey } from '../crdt/index.js';
import type { LedgerRecord } from '../ledger/types.js';
import { ProjectionRouting } from './routing.js';
import type { FoldContext, ProjectionDefinition } from './types.js';

type Context = { -readonly [P in keyof FoldContext]: FoldContext[P] };

/**
 * Per namespace: its states, and (when idle states are encoded) the keys folded in this
 * window and the last: those states are held as objects, every other as an `Idle`.
 */
interface Namespace {
  states: Map<string, unknown>;
  touched: Set<string>;
  previous: Set<string>;
}

/** A projection that folds some event type, with its namespace. */
type Target = { definition: ProjectionDefinition; namespace: Namespace };

/** A state left idle, held as its encoding (crdt/encoding.ts, the store's) in a one-byte string: a few times smaller than the objects. */
class Idle {
  constructor(readonly encoded: string) {}

  static of(state: unknown): Idle {
    return new Idle(encodeState(state).toString('latin1'));
  }

  state(): unknown {
    return decodeState(Buffer.from(this.encoded, 'latin1'));
  }
}

/** A held state as its object. */
function live(held: unknown): unknown {
  return held instanceof Idle ? held.state() : held;
}

export interface EntityStatesOptions {
  /**
   * Hold a state as its encoding once this many records have been folded without touching
   * it (a state is decoded again when next folded): memory for the recently folded states
   * and the encodings of the rest, at the cost of a decode when an idle one comes back.
   * Default: every state held as its objects.
   */
  encodeIdleAfter?: number;
  /**
   * Told of each record a projection's `keysOf` or `fold` threw on (key '' for `keysOf`),
   * which then passes over it. A fold may have changed its entity's state before throwing:
   * fold that entity again without the record (`only`). Without it, a throw ends the fold.
   */
  onRejected?: (rejection: FoldRejection) => void;
  /** Fold only these entities (projection name → keys), passing over these records (`rejectionId`). */
  only?: { entities: ReadonlyMap<string, ReadonlySet<string>>; skip: ReadonlySet<string> };
}

/** A record a projection threw on. */
export interface FoldRejection {
  definition: ProjectionDefinition;
  key: string;
  record: LedgerRecord;
  error: unknown;
}

/** Names a rejected record for one entity. */
export function rejectionId(projection: string, key: string, position: string, seq: string): string {
  return `${projection}\u0000${key}\u0000${position}\u0000${seq}`;
}

/** What a stream's records need, looked up once per record rather than once per projection. */
interface StreamRoute {
  byType: Map<string, Target[]>;
  /** One context per shard with its seq moved along (folds read it only while they run). */
  shards: Context[];
}

function foldInto(definition: ProjectionDefinition, namespace: Namespace, key: string, record: LedgerRecord, context: FoldContext, tracked: boolean): void {
  const { states } = namespace;
  const held = states.get(key);
  const state = held instanceof Idle ? held.state() : held;
  const folded = definition.fold(state ?? definition.initial(key), record.event, key, context);
  if (folded !== held) states.set(key, folded);
  if (tracked) namespace.touched.add(key);
}

/**
 * Entity states held in memory and folded record by record with no I/O, no checkpoint and
 * no dedup: the caller supplies each record once. For offline work that wants raw speed
 * (benchmarks, replicas compared in tests, a rebuild that writes its result in bulk).
 */
export class EntityStates {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly routing: ProjectionRouting;
  private readonly streams = new Map<string, StreamRoute>();
  private readonly idleAfter: number;
  /** Records folded until idle states are next encoded. */
  private untilIdle: number;
  private readonly onRejected: ((rejection: FoldRejection) => void) | undefined;
  private readonly only: EntityStatesOptions['only'];

  constructor(
    private readonly definitions: readonly ProjectionDefinition[],
    options: EntityStatesOptions = {},
  ) {
    this.routing = new ProjectionRouting(definitions);
    this.idleAfter = options.encodeIdleAfter ?? Number.POSITIVE_INFINITY;
    this.untilIdle = this.idleAfter;
    this.onRejected = options.onRejected;
    this.only = options.only;
  }

  fold(record: LedgerRecord): void {
    const route = this.streams.get(record.stream) ?? this.route(record.stream);
    const type = record.event.type;
    const targets = route.byType.get(type) ?? this.targets(route, record.stream, type);
    if (targets.length === 0) return;
    const context = route.shards[record.shard] ?? (route.shards[record.shard] = { position: positionKey(record.stream, record.shard), seq: '' });
    context.seq = record.seq;
    const tracked = this.idleAfter !== Number.POSITIVE_INFINITY;
    for (const { definition, namespace } of targets) {
      const keys = this.keysOf(definition, record);
      if (keys === undefined) continue;
      if (typeof keys === 'string') this.foldKey(definition, namespace, keys, record, context, tracked);
      else for (const key of keys) this.foldKey(definition, namespace, key, record, context, tracked);
    }
    if (--this.untilIdle <= 0) this.encodeIdle();
  }

  /** The state held for an entity (undefined: none). */
  held(projection: string, key: string): unknown {
    return live(this.states(projection).get(key));
  }

  /** Holds `state` for an entity in place of what it held (undefined: none). */
  replace(projection: string, key: string, state: unknown): void {
    if (state === undefined) this.states(projection).delete(key);
    else this.states(projection).set(key, state);
  }

  /** The record's keys for a projection; undefined when `keysOf` threw and that was told of. */
  private keysOf(definition: ProjectionDefinition, record: LedgerRecord): string | readonly string[] | undefined {
    if (!this.onRejected) return definition.keysOf(record.event);
    try {
      return definition.keysOf(record.event);
    } catch (error) {
      // Folding again only some entities, the key-less records were told of the first time.
      if (!this.only) this.onRejected({ definition, key: '', record, error });
      return undefined;
    }
  }

  /** Folds one record into one entity, unless `only` leaves it out; a throw is told of when asked. */
  private foldKey(definition: ProjectionDefinition, namespace: Namespace, key: string, record: LedgerRecord, context: FoldContext, tracked: boolean): void {
    if (this.only && (!this.only.entities.get(definition.name)?.has(key) || this.only.skip.has(rejectionId(definition.name, key, context.position, record.seq)))) return;
    if (!this.onRejected) return foldInto(definition, namespace, key, record, context, tracked);
    try {
      foldInto(definition, namespace, key, record, context, tracked);
    } catch (error) {
      this.onRejected({ definition, key, record, error });
    }
  }

  /**
   * Encodes the states folded in the last window and not in this one (those of earlier
   * windows are encoded already): a state stays objects for one to two windows after it
   * was last folded.
   */
  private encodeIdle(): void {
    this.untilIdle = this.idleAfter;
    for (const namespace of this.namespaces.values()) {
      for (const key of namespace.previous) if (!namespace.touched.has(key)) namespace.states.set(key, Idle.of(namespace.states.get(key)));
      namespace.previous = namespace.touched;
      namespace.touched = new Set();
    }
  }

  /** Merges another replica's states into these (CRDT merge per entity). */
  mergeFrom(other: EntityStates): void {
    for (const definition of this.definitions) {
      const mine = this.states(definition.name);
      for (const [key, held] of other.states(definition.name)) {
        const current = live(mine.get(key));
        const state = live(held);
        mine.set(key, current === undefined ? state : definition.merge(current, state));
      }
    }
  }

  /** The state of `projection`'s entity `key`: these states serve as a view's lookup. */
  get<S>(projection: ProjectionDefinition<S>, key: string): S | undefined {
    return live(this.namespaces.get(projection.name)?.states.get(key)) as S | undefined;
  }

  /** Every entity key of a projection. */
  keys(projection: ProjectionDefinition): IterableIterator<string> {
    return this.states(projection.name).keys();
  }

  /** How many entities of a projection are held. */
  count(projection: ProjectionDefinition): number {
    return this.states(projection.name).size;
  }

  /** The encoding of an entity's state (crdt/encoding.ts), no longer held here. */
  takeEncoding(projection: ProjectionDefinition, key: string): Buffer {
    const states = this.states(projection.name);
    const held = states.get(key);
    states.delete(key);
    return held instanceof Idle ? Buffer.from(held.encoded, 'latin1') : encodeState(held);
  }

  private route(stream: string): StreamRoute {
    const route: StreamRoute = { byType: new Map(), shards: [] };
    this.streams.set(stream, route);
    return route;
  }

  private targets(route: StreamRoute, stream: string, type: string): Target[] {
    const targets = this.routing.projectionsFor(stream, type).map((definition) => ({ definition, namespace: this.namespace(definition.name) }));
    route.byType.set(type, targets);
    return targets;
  }

  private states(name: string): Map<string, unknown> {
    return this.namespace(name).states;
  }

  private namespace(name: string): Namespace {
    let namespace = this.namespaces.get(name);
    if (!namespace) this.namespaces.set(name, (namespace = { states: new Map(), touched: new Set(), previous: new Set() }));
    return namespace;
  }
}
