import { FoldlineError } from '../base/errors.js';
import { LruCache } from '../base/lruCache.js';
import { pairKey, splitPairKey } from '../base/pairKey.js';
import { frontierCovers, frontiersEqual, type Frontier } from '../crdt/index.js';
import { computeView, type Computed } from './compute.js';
import { EntityCache } from './entityCache.js';
import { FrontierWaiters } from './frontierWaiters.js';
import type { EntitySource, FoldedBatch, ViewDefinition, ViewValue } from './types.js';

export interface ViewEngineOptions {
  source: EntitySource;
  views: readonly ViewDefinition[];
  /** Entity states kept in memory for view computations. */
  entityCacheSize?: number;
  /** View values kept without a subscriber, for repeated reads. */
  unsubscribedViewsKept?: number;
  /** Called when recomputing a view throws (a defect in a view definition). */
  onError?: (error: unknown, view: string, key: string) => void;
}

type ViewListener = (value: ViewValue) => void;

/** A view key whose value is kept: subscribed, or read recently. */
interface Materialized {
  view: string;
  key: string;
  value: unknown;
  /** The value's JSON text: what subscribers are sent, and what tells a new value from the last. */
  json: string;
  /**
   * The JSON text last published, or first computed clean (none: first computed dirty): a value
   * is published only when clean and other than it.
   */
  published: string | undefined;
  frontier: Frontier;
  dependencies: Set<string>;
  /** A dependency changed since the value was computed. */
  dirty: boolean;
  /** The trace of the last traced event that changed a dependency since the last clean computation: its push carries it. */
  traceparent: string | undefined;
  listeners: Set<ViewListener>;
}

/**
 * The runtime of the join: computes view values on demand, remembers which entities each
 * kept value read, and after every folded batch recomputes exactly the kept views whose inputs
 * changed, publishing the new values to their subscribers and to the change feed.
 */
export class ViewEngine {
  private readonly definitions = new Map<string, ViewDefinition>();
  private readonly cache: EntityCache;
  private readonly kept = new Map<string, Materialized>();
  /** Entity id → ids of the kept views that read it. */
  private readonly dependents = new Map<string, Set<string>>();
  /** What computations in flight have read so far, to notice a folded batch that races them. */
  private readonly inFlight = new Set<{ reads: Set<string>; stale: boolean }>();
  /** Kept views without subscribers: beyond the configured number, the least recently used are forgotten. */
  private readonly idle: LruCache<string, true>;
  private readonly feed = new Set<ViewListener>();
  private readonly waiters = new FrontierWaiters();
  /** Views to recompute, oldest first, each once: `queued` holds the same ids. */
  private readonly recomputeQueue: string[] = [];
  private readonly queued = new Set<string>();
  private draining: Promise<void> | undefined;
  private sharedFrontier: Frontier | undefined;
  private readonly detach: () => void;
  private readonly onError: (error: unknown, view: string, key: string) => void;

  constructor(private readonly options: ViewEngineOptions) {
    for (const definition of options.views) this.definitions.set(definition.name, definition);
    this.cache = new EntityCache(options.source, options.entityCacheSize ?? 200_000);
    this.idle = new LruCache(options.unsubscribedViewsKept ?? 10_000, (oldest) => {
      this.unindex(oldest, this.kept.get(oldest)!.dependencies);
      this.kept.delete(oldest);
    });
    this.onError = options.onError ?? (() => {});
    this.detach = options.source.onFolded((batch) => this.applyFolded(batch));
  }

  /** Throws what a read of this view key would for its name or key, before any work. */
  checkViewKey(view: string, key: string): void {
    this.definition(view, key);
  }

  /**
   * Everything folded so far; views read now reflect at least this. The same object while
   * it does not change, so that values computed after one folded batch share it (and its token).
   * Never mutated.
   */
  frontier(): Frontier {
    const current = this.options.source.frontier();
    if (this.sharedFrontier === undefined || !frontiersEqual(current, this.sharedFrontier)) this.sharedFrontier = current;
    return this.sharedFrontier;
  }

  /** Resolves once everything `required` covers is folded; 503 `not_caught_up` after `waitMs`. */
  waitFor(required: Frontier, waitMs: number): Promise<void> {
    if (frontierCovers(this.frontier(), required)) return Promise.resolve();
    return this.waiters.wait(required, waitMs);
  }

  /** The current value of a view key, reflecting at least `after` (never an older value). */
  async read(view: string, key: string, options: { after?: Frontier; waitMs?: number } = {}): Promise<ViewValue> {
    return this.valueOf(await this.readEntry(view, key, options));
  }

  /** A read, with the entities the value read (`[projection, key]`): what explains it. */
  async readWithInputs(view: string, key: string, options: { after?: Frontier; waitMs?: number } = {}): Promise<{ value: ViewValue; inputs: Array<[string, string]> }> {
    const entry = await this.readEntry(view, key, options);
    return { value: this.valueOf(entry), inputs: [...entry.dependencies].map(splitPairKey) };
  }

  private async readEntry(view: string, key: string, options: { after?: Frontier; waitMs?: number }): Promise<Materialized> {
    this.definition(view, key);
    if (options.after) await this.waitFor(options.after, options.waitMs ?? 0);
    return this.materialize(view, key);
  }

  /**
   * Calls `listener` with the current value (reflecting at least `after`), then with every
   * new value. Returns the unsubscribe function.
   */
  async subscribe(view: string, key: string, listener: ViewListener, options: { after?: Frontier; waitMs?: number } = {}): Promise<() => void> {
    this.definition(view, key);
    if (options.after) await this.waitFor(options.after, options.waitMs ?? 0);
    const id = pairKey(view, key);
    let entry = await this.materialize(view, key);
    // Another computation may have dropped it from the kept set meanwhile.
    while (this.kept.get(id) !== entry) entry = await this.materialize(view, key);
    entry.listeners.add(listener);
    this.idle.delete(id);
    listener(this.valueOf(entry));
    // Computed while its inputs changed, before it had a listener to recompute it for: the
    // subscriber is owed the value that reflects them.
    if (entry.dirty) this.schedule(id);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.kept.get(id) === entry) this.idle.set(id, true);
    };
  }

  /** The view-change feed: every new value of every subscribed view. */
  onChange(listener: ViewListener): () => void {
    this.feed.add(listener);
    return () => this.feed.delete(listener);
  }

  /** Resolves once no recomputation is pending (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  close(): void {
    this.detach();
    this.waiters.failAll(new FoldlineError('closed', 'the view engine is closed'));
  }

  private definition(view: string, key: string): ViewDefinition {
    const definition = this.definitions.get(view);
    if (!definition) throw new FoldlineError('unknown_view', `no view named ${JSON.stringify(view)}`, { path: '/view' });
    definition.checkKey?.(key);
    return definition;
  }

  private valueOf(entry: Materialized): ViewValue {
    return { view: entry.view, key: entry.key, value: entry.value, json: entry.json, frontier: entry.frontier };
  }

  /** The kept entry of a view key, computed now unless it is kept and clean. */
  private async materialize(view: string, key: string): Promise<Materialized> {
    const id = pairKey(view, key);
    const kept = this.kept.get(id);
    if (kept && !kept.dirty) {
      // Clean: no input changed since it was computed, so it reflects everything folded.
      kept.frontier = this.frontier();
      if (kept.listeners.size === 0) this.idle.set(id, true);
      return kept;
    }
    return this.recompute(id, view, key);
  }

  /** Computes a view key and keeps the value; publishes it when it changed. */
  private async recompute(id: string, view: string, key: string): Promise<Materialized> {
    const frontier = this.frontier();
    const tracking = { reads: new Set<string>(), stale: false };
    this.inFlight.add(tracking);
    try {
      const computed = await computeView(this.definitions.get(view)!, key, this.cache, tracking.reads);
      // The value reflects at least `frontier`; a folded batch that raced the computation leaves it dirty.
      return this.keep(id, view, key, computed, frontier, tracking.stale);
    } finally {
      this.inFlight.delete(tracking);
    }
  }

  private keep(id: string, view: string, key: string, computed: Computed, frontier: Frontier, dirty: boolean): Materialized {
    const { value, dependencies } = computed;
    // Plain JSON, not canonical: a view builds equal values alike, so equal text is an equal
    // value, and one built in another key order is at worst pushed again, never missed.
    const json = JSON.stringify(value) ?? 'null';
    let entry = this.kept.get(id);
    if (entry) {
      // Most recomputations read what the last one did: the index then stays as it is.
      if (!sameMembers(entry.dependencies, dependencies)) {
        this.unindex(id, entry.dependencies);
        this.index(id, dependencies);
      }
      // A clean value reflects everything folded by now, not only what had been when its
      // computation began: published values then carry frontiers in the order they are published.
      // A dirty one is not published: its recomputation (scheduled below) is.
      const publish = !dirty && entry.published !== json;
      Object.assign(entry, { value, json, dependencies, frontier: dirty ? frontier : this.frontier(), dirty });
      if (publish) {
        entry.published = json;
        this.publish(entry);
      }
      if (!dirty) entry.traceparent = undefined;
    } else {
      entry = { view, key, value, json, published: dirty ? undefined : json, frontier: dirty ? frontier : this.frontier(), dependencies, dirty, traceparent: undefined, listeners: new Set() };
      this.kept.set(id, entry);
      this.index(id, dependencies);
      this.idle.set(id, true);
    }
    if (dirty && entry.listeners.size > 0) this.schedule(id);
    return entry;
  }

  private publish(entry: Materialized): void {
    const value = this.valueOf(entry);
    if (entry.traceparent !== undefined) value.traceparent = entry.traceparent;
    for (const listener of entry.listeners) listener(value);
    for (const listener of this.feed) listener(value);
  }

  private applyFolded(batch: FoldedBatch): void {
    const changed = this.cache.applyFolded(batch);
    for (let i = 0; i < changed.length; i++) {
      const entity = changed[i]!;
      const { traceparent } = batch.entities[i]!;
      for (const tracking of this.inFlight) if (tracking.reads.has(entity)) tracking.stale = true;
      for (const id of this.dependents.get(entity) ?? []) {
        const entry = this.kept.get(id)!;
        entry.dirty = true;
        if (traceparent !== undefined) entry.traceparent = traceparent;
        if (entry.listeners.size > 0) this.schedule(id);
      }
    }
    this.waiters.advance(batch.frontier);
  }

  private schedule(id: string): void {
    if (this.queued.has(id)) return;
    this.queued.add(id);
    this.recomputeQueue.push(id);
    this.draining ??= this.drain();
  }

  /** Recomputes queued views one at a time; views queued again meanwhile run once more. */
  private async drain(): Promise<void> {
    try {
      while (this.recomputeQueue.length > 0) {
        const id = this.recomputeQueue.shift()!;
        this.queued.delete(id);
        const entry = this.kept.get(id);
        if (!entry || !entry.dirty) continue;
        try {
          await this.recompute(id, entry.view, entry.key);
        } catch (error) {
          this.onError(error, entry.view, entry.key);
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private index(id: string, dependencies: Set<string>): void {
    for (const dependency of dependencies) {
      const views = this.dependents.get(dependency) ?? new Set<string>();
      views.add(id);
      this.dependents.set(dependency, views);
    }
  }

  private unindex(id: string, dependencies: Set<string>): void {
    for (const dependency of dependencies) {
      const views = this.dependents.get(dependency);
      views?.delete(id);
      if (views?.size === 0) this.dependents.delete(dependency);
    }
  }
}

function sameMembers(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const member of b) if (!a.has(member)) return false;
  return true;
}
