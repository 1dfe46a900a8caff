import type { Redis } from 'ioredis';
import { frontiersEqual, mergeFrontiers, type Frontier } from '../../crdt/index.js';
import type { EntitySource, FoldedBatch } from '../../joiner/types.js';
import type { ReadRenewal } from '../../projections/storeBackend.js';
import type { EntityRecord, StateStore } from '../../projections/types.js';
import { connectRedis, keyPrefix } from './connect.js';

/** What one store commit of a projector changed, as published: the checkpoint it wrote and the entities. */
export interface StoredChange {
  frontier: Frontier;
  /** Each with the W3C trace of the last traced event folded into it, if any. */
  entities: Array<[namespace: string, key: string, traceparent?: string]>;
}

const channelOf = (name: string): string => `${keyPrefix(name)}changes`;

/** Tells the gateways of a deployment of each store commit, once it landed (Redis pub/sub). */
export class ChangePublisher {
  private constructor(
    private readonly redis: Redis,
    private readonly channel: string,
  ) {}

  static async open(url: string, name: string): Promise<ChangePublisher> {
    return new ChangePublisher(await connectRedis(url), channelOf(name));
  }

  async publish(change: StoredChange): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(change));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

/**
 * The entities of a shared store as a gateway's views see them: read from the store, and
 * changed as the projectors' commits are published (ChangePublisher). Its frontier is
 * what the store's checkpoints cover, merged over every projector, so a read with a token
 * waits until a commit covering it is published, wherever it was folded.
 */
export class StoreFeed implements EntitySource {
  private current: Frontier;
  private readonly listeners = new Set<(batch: FoldedBatch) => void>();

  private constructor(
    private readonly subscriber: Redis,
    private readonly store: StateStore & Partial<ReadRenewal>,
    stored: Frontier,
  ) {
    this.current = stored;
    subscriber.on('message', (_channel: string, text: string) => this.receive(JSON.parse(text) as StoredChange));
  }

  /** Listens first, then reads the checkpoint: a commit published between the two is not missed. */
  static async open(options: { url: string; name: string; store: StateStore & Partial<ReadRenewal>; consumer: string }): Promise<StoreFeed> {
    const subscriber = await connectRedis(options.url);
    try {
      await subscriber.subscribe(channelOf(options.name));
      const feed = new StoreFeed(subscriber, options.store, {});
      feed.receive({ frontier: (await options.store.checkpoint(options.consumer))?.frontier ?? {}, entities: [] });
      return feed;
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
  }

  get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    return this.store.get<S>(namespace, key);
  }

  frontier(): Frontier {
    return this.current;
  }

  onFolded(listener: (batch: FoldedBatch) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.subscriber.quit().catch(() => undefined);
  }

  private receive(change: StoredChange): void {
    this.store.renewReads?.();
    const next = mergeFrontiers(this.current, change.frontier);
    if (change.entities.length === 0 && frontiersEqual(next, this.current)) return;
    if (!frontiersEqual(next, this.current)) this.current = next;
    const batch: FoldedBatch = { entities: change.entities.map(([namespace, key, traceparent]) => (traceparent === undefined ? { namespace, key } : { namespace, key, traceparent })), frontier: this.current };
    for (const listener of this.listeners) listener(batch);
  }
}
