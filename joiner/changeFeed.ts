import { FoldlineError } from '../base/errors.js';
import { pairKey } from '../base/pairKey.js';
import { frontierCovers } from '../crdt/index.js';
import { ChangeLog, type ChangeLogLimits } from './changeLog.js';
import type { EntitySource, FoldedBatch, ViewDefinition, ViewValue } from './types.js';
import type { ViewEngine } from './viewEngine.js';

export interface ChangeFeedOptions {
  engine: ViewEngine;
  /** The engine's source: its folded batches name the entities whose keys are new view keys. */
  source: EntitySource;
  /** The views streamed (each with `keysFrom`). */
  views: readonly ViewDefinition[];
  /** Every key stored in a namespace now (the store's keys). */
  existingKeys(namespace: string): AsyncIterable<string>;
  limits: ChangeLogLimits;
  onError?: (error: unknown, view: string, key: string) => void;
}

export const defaultChangeLogLimits: ChangeLogLimits = { maxChanges: 100_000, maxAgeMs: 60 * 60 * 1000 };

/**
 * The canonical change stream of some views: it follows every key of each (those stored when
 * it starts, and each new one as its entity is first folded), keeping them subscribed in the
 * view engine, and logs each key's first value and every new value the engine publishes
 * (ChangeLog). Every key of a
 * streamed view stays in memory while the feed runs: that is what a stream of all of them costs.
 */
export class ChangeFeed {
  readonly log: ChangeLog;
  /** Resolves once every key stored at the start is followed. */
  readonly ready: Promise<void>;
  private readonly streamed: ReadonlyMap<string, ViewDefinition>;
  /** Namespace → the streamed views whose keys are its entity keys. */
  private readonly viewsByNamespace = new Map<string, ViewDefinition[]>();
  private readonly followed = new Map<string, Promise<() => void>>();
  /** Follows whose first value is not in yet. */
  private readonly starting = new Set<Promise<unknown>>();
  private readonly detach: () => void;
  private closed = false;

  constructor(private readonly options: ChangeFeedOptions) {
    for (const view of options.views) {
      if (!view.keysFrom?.length) throw new FoldlineError('invalid_option', `view ${JSON.stringify(view.name)} names no projections its keys come from (keysFrom): it cannot be streamed`);
      for (const projection of view.keysFrom) this.viewsByNamespace.set(projection.name, [...(this.viewsByNamespace.get(projection.name) ?? []), view]);
    }
    this.streamed = new Map(options.views.map((view) => [view.name, view]));
    this.log = new ChangeLog(options.engine.frontier(), options.limits);
    // Before the store's keys are listed: an entity is either stored by then or folded after.
    this.detach = options.source.onFolded((batch) => this.discover(batch));
    this.ready = this.followStored();
  }

  /** Throws 400 `not_streamed` for a view this feed does not stream, naming `path`. */
  checkStreamed(view: string, path = '/view'): void {
    if (!this.streamed.has(view)) {
      throw new FoldlineError('not_streamed', `view ${JSON.stringify(view)} is not on the change stream (streamed: ${[...this.streamed.keys()].join(', ') || 'none'})`, { path });
    }
  }

  /** Resolves once every key followed so far has its first value in, and the engine recomputed what was pending (tests). */
  async settled(): Promise<void> {
    while (this.starting.size > 0) await Promise.all(this.starting);
    await this.options.engine.settled();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.detach();
    await this.ready.catch(() => {});
    for (const unsubscribe of this.followed.values()) (await unsubscribe.catch(() => () => {}))();
    this.followed.clear();
  }

  private async followStored(): Promise<void> {
    for (const [namespace, views] of this.viewsByNamespace) {
      for await (const key of this.options.existingKeys(namespace)) {
        if (this.closed) return;
        for (const view of views) await this.follow(view, key);
      }
    }
  }

  private discover(batch: FoldedBatch): void {
    for (const { namespace, key } of batch.entities) {
      for (const view of this.viewsByNamespace.get(namespace) ?? []) void this.follow(view, key);
    }
  }

  /**
   * Subscribes to a view key once, logging its first value too: the log starts with every
   * key's value, so a key whose value changed while it was being followed is never missed.
   */
  private follow(view: ViewDefinition, key: string): Promise<unknown> {
    const id = pairKey(view.name, key);
    const known = this.followed.get(id);
    if (known || this.closed) return known ?? Promise.resolve();
    let first = true;
    const onValue = (value: ViewValue): void => {
      const initial = first;
      first = false;
      // A first value computed while its inputs changed reflects less than what is logged: its recomputation follows.
      if (initial && !frontierCovers(value.frontier, this.lastFrontier())) return;
      this.log.append(value.view, value.key, value.json, value.frontier, Date.now(), value.traceparent);
    };
    const subscribed = this.options.engine.subscribe(view.name, key, onValue, {});
    this.followed.set(id, subscribed);
    const started = subscribed
      .catch((error: unknown) => {
        this.followed.delete(id);
        this.options.onError?.(error, view.name, key);
      })
      .finally(() => this.starting.delete(started));
    this.starting.add(started);
    return started;
  }

  private lastFrontier() {
    return this.log.last()?.frontier ?? this.options.engine.frontier();
  }
}
