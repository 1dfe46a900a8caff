import { canonicalJson, counterAdd, frontier, lwwWrite, mergeCounters, mergeLww, parseTime, pnCounter, type Lww, type PnCounter } from '../../crdt/index.js';
import { MemoryLedger } from '../../ledger/memoryLedger.js';
import type { CloudEvent, Ledger } from '../../ledger/types.js';
import type { StateCommit, StateStore } from '../../projections/types.js';
import type { ProjectionDefinition } from '../../projections/types.js';

/*
 * A small generic domain for runtime tests: events of two streams carry a signed delta,
 * a label and a tag; `tally` keeps a per-subject PN counter (replica = ledger position)
 * and an LWW label, `tags` counts events per tag and overall. `poison` makes both folds
 * throw after they changed the state; `badKeys` makes `tags.keysOf` throw.
 */
export const streams = [
  { name: 'alpha', shards: 2 },
  { name: 'beta', shards: 3 },
];

export interface TestEventData {
  delta: number;
  label: string;
  tag: string;
  poison?: boolean;
  badKeys?: boolean;
}

export function testEvent(id: string, stream: 'alpha' | 'beta', subject: string, data: TestEventData, ms = 0): CloudEvent {
  return { specversion: '1.0', id, source: 'test', type: `test.${stream}`, time: new Date(ms).toISOString(), subject, data: { ...data } };
}

export function newLedger(): MemoryLedger {
  return new MemoryLedger({ streams, route: (event) => event.type.slice('test.'.length) });
}

export interface Tally {
  count: PnCounter;
  last: Lww<string> | null;
}

function dataOf(event: CloudEvent): TestEventData {
  return event.data as unknown as TestEventData;
}

export const tally: ProjectionDefinition<Tally> = {
  name: 'tally',
  streams: ['alpha', 'beta'],
  keysOf: (event) => [event.subject],
  initial: () => ({ count: pnCounter(), last: null }),
  fold(state, event, _key, context) {
    counterAdd(state.count, context.position, dataOf(event).delta);
    if (dataOf(event).poison) throw new Error(`poisoned ${event.id}`);
    state.last = lwwWrite(state.last ?? undefined, dataOf(event).label, { t: parseTime(event.time), id: event.id, src: event.source });
    return state;
  },
  merge: (a, b) => ({ count: mergeCounters(a.count, b.count), last: mergeLww(a.last ?? undefined, b.last ?? undefined) ?? null }),
};

export const tags: ProjectionDefinition<PnCounter> = {
  name: 'tags',
  streams: ['beta'],
  keysOf(event) {
    if (dataOf(event).badKeys) throw new Error(`no keys for ${event.id}`);
    return ['*', dataOf(event).tag];
  },
  initial: () => pnCounter(),
  fold(state, event, _key, context) {
    counterAdd(state, context.position, 1);
    if (dataOf(event).poison) throw new Error(`poisoned ${event.id}`);
    return state;
  },
  merge: mergeCounters,
};

export const projections = [tally, tags] as const;

/** Every stored state, dead letter and the checkpoint of `consumer`, as canonical JSON. */
export async function dump(store: StateStore, consumer: string, { withFrontiers = true } = {}): Promise<string> {
  const entities: Record<string, Record<string, unknown>> = {};
  for (const { name } of projections) {
    const space: Record<string, unknown> = Object.create(null);
    for await (const key of store.keys(name)) {
      const record = (await store.get(name, key))!;
      space[key] = withFrontiers ? record : record.state;
    }
    entities[name] = space;
  }
  const deadLetters = (await store.deadLetters(consumer)).map(({ at: _at, ...letter }) => letter);
  return canonicalJson({ entities, deadLetters });
}

export type FaultMode = 'before' | 'after' | 'partial';

export class InjectedFault extends Error {}

/**
 * A store that fails one chosen commit: before writing anything, after writing all of
 * it, or part way as a non-atomic backend could, which writes dead letters first and the
 * checkpoint last (here: the dead letters and some entities). Nothing else in-process can
 * fail a commit half way.
 */
export class FaultyStore implements StateStore {
  private armed: { mode: FaultMode; countdown: number } | undefined;

  constructor(private readonly inner: StateStore) {}

  /** Fails the commit after `commitsBefore` successful ones. */
  arm(mode: FaultMode, commitsBefore: number): void {
    this.armed = { mode, countdown: commitsBefore };
  }

  disarm(): void {
    this.armed = undefined;
  }

  async commit(commit: StateCommit): Promise<void> {
    if (!this.armed || this.armed.countdown-- > 0) return this.inner.commit(commit);
    const { mode } = this.armed;
    this.armed = undefined;
    if (mode === 'after') await this.inner.commit(commit);
    if (mode === 'partial') {
      const previous = (await this.inner.checkpoint(commit.consumer)) ?? { frontier: frontier(), recentIds: [] };
      await this.inner.commit({ consumer: commit.consumer, entities: commit.entities.filter((_, i) => i % 2 === 0), checkpoint: previous, deadLetters: commit.deadLetters });
    }
    throw new InjectedFault(`injected fault ${mode} commit`);
  }

  get: StateStore['get'] = (namespace, key) => this.inner.get(namespace, key);
  getMany: StateStore['getMany'] = (namespace, keys) => this.inner.getMany(namespace, keys);
  keys: StateStore['keys'] = (namespace) => this.inner.keys(namespace);
  checkpoint: StateStore['checkpoint'] = (consumer) => this.inner.checkpoint(consumer);
  deadLetters: StateStore['deadLetters'] = (consumer) => this.inner.deadLetters(consumer);
  close: StateStore['close'] = () => this.inner.close();
}

/**
 * An at-least-once source: events appended with ids `x~1`, `x~2` are re-deliveries of
 * event `x`, and read back as `x`, each at its own position.
 */
export function atLeastOnce(inner: Ledger): Ledger {
  return {
    streams: inner.streams,
    append: (events) => inner.append(events),
    read: async (stream, shard, after, limit) =>
      (await inner.read(stream, shard, after, limit)).map((record) => ({ ...record, event: { ...record.event, id: record.event.id.replace(/~\d+$/, '') } })),
    head: () => inner.head(),
    waitForAppend: (streams, after, signal) => inner.waitForAppend(streams, after, signal),
    close: () => inner.close(),
  };
}
