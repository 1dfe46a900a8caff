import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { FoldlineError } from '../base/errors.js';
import { frontier, type Frontier } from '../crdt/index.js';
import type { ChangeFeed } from '../joiner/changeFeed.js';
import type { Ledger } from '../ledger/types.js';
import type { RetryPolicy } from './backoff.js';
import { SubscriptionDeliverer, type DelivererContext, type DeliveryOptions } from './deliverer.js';
import type { DeliverySource } from './deliverySource.js';
import { LedgerSource } from './ledgerSource.js';
import { SubscriptionMetrics } from './metrics.js';
import { SharedReads } from './sharedReads.js';
import { checkSubscriptionName, parseSubscriptionRequest } from './parseSpec.js';
import type { DeadDelivery, ReplayOutcome, SubscriptionSpec, SubscriptionStatus, SubscriptionStore } from './types.js';
import { ViewChangeSource } from './viewChangeSource.js';

export interface SubscriptionsOptions {
  ledger: Ledger;
  store: SubscriptionStore;
  /** The change stream, whose views' changes a subscription may ask for instead of events. */
  changes?: ChangeFeed | undefined;
  logger: Logger;
  registry?: Registry;
  delivery?: Partial<Omit<DeliveryOptions, 'retry'>> & { retry?: Partial<RetryPolicy> };
}

export const defaultDelivery: DeliveryOptions = {
  retry: { attempts: 6, baseDelayMs: 500, maxDelayMs: 60_000 },
  concurrency: 8,
  batchSize: 500,
  timeoutMs: 10_000,
};

/** How the gateway manages subscriptions (`/v1/subscriptions`): request bodies in, statuses out. */
export interface SubscriptionAdmin {
  add(body: unknown): Promise<SubscriptionStatus>;
  list(): Promise<SubscriptionStatus[]>;
  remove(name: string): Promise<void>;
  deadLetters(name: string): Promise<DeadDelivery[]>;
  replayDead(name: string): Promise<ReplayOutcome>;
}

/**
 * The webhook subscriptions of a service: each one a deliverer of its own (its checkpoint,
 * its connections, its queue), started when added or at open, stopped when removed or closed.
 */
export class Subscriptions implements SubscriptionAdmin {
  private readonly deliverers = new Map<string, SubscriptionDeliverer>();
  private readonly metrics: SubscriptionMetrics;
  private readonly delivery: DeliveryOptions;
  private readonly reads: SharedReads;
  /** Adds and removes, one at a time: a name is checked and taken in one step. */
  private changes: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: SubscriptionsOptions) {
    const { retry, ...rest } = options.delivery ?? {};
    this.delivery = { ...defaultDelivery, ...rest, retry: { ...defaultDelivery.retry, ...retry } };
    if (!Number.isInteger(this.delivery.retry.attempts) || this.delivery.retry.attempts < 1) {
      throw new FoldlineError('invalid_option', `retry attempts must be a positive integer, not ${this.delivery.retry.attempts}`);
    }
    this.reads = new SharedReads(options.ledger);
    this.metrics = new SubscriptionMetrics(options.registry, {
      lags: async () => {
        const head = await options.ledger.head();
        return new Map([...this.deliverers].map(([name, deliverer]) => [name, deliverer.lag(head)]));
      },
      deadLetters: () => new Map([...this.deliverers].map(([name, deliverer]) => [name, deliverer.deadLetters])),
    });
  }

  /** Starts delivering every stored subscription from its checkpoint. */
  static async open(options: SubscriptionsOptions): Promise<Subscriptions> {
    const subscriptions = new Subscriptions(options);
    for (const spec of await options.store.list()) {
      const checkpoint = (await options.store.checkpoint(spec.name)) ?? frontier();
      const dead = (await options.store.deadLetters(spec.name)).length;
      subscriptions.startDeliverer(new SubscriptionDeliverer(spec, checkpoint, dead, subscriptions.sourceOf(spec), subscriptions.context()));
    }
    return subscriptions;
  }

  add(body: unknown): Promise<SubscriptionStatus> {
    const { spec, from } = parseSubscriptionRequest(body);
    // Refused before it waits its turn: its views must be on the change stream.
    const source = this.sourceOf(spec);
    return this.serially(async () => {
      if (this.deliverers.has(spec.name)) throw new FoldlineError('subscription_exists', `a subscription named ${JSON.stringify(spec.name)} exists; remove it first`);
      const checkpoint = await source.start(from);
      await this.options.store.put(spec, checkpoint);
      const deliverer = new SubscriptionDeliverer(spec, checkpoint, 0, source, this.context());
      this.startDeliverer(deliverer);
      this.options.logger.info({ subscription: spec.name, url: spec.url, types: spec.types, views: spec.views, from }, 'subscription added');
      return this.statusOf(deliverer, checkpoint);
    });
  }

  async list(): Promise<SubscriptionStatus[]> {
    const head = await this.options.ledger.head();
    return [...this.deliverers.values()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1)).map((deliverer) => this.statusOf(deliverer, head));
  }

  remove(name: string): Promise<void> {
    return this.serially(async () => {
      const deliverer = this.deliverer(name);
      this.deliverers.delete(name);
      await deliverer.stop();
      await this.options.store.remove(name);
      this.metrics.forget(name);
      this.options.logger.info({ subscription: name }, 'subscription removed');
    });
  }

  async deadLetters(name: string): Promise<DeadDelivery[]> {
    this.deliverer(name);
    return this.options.store.deadLetters(name);
  }

  replayDead(name: string): Promise<ReplayOutcome> {
    return this.deliverer(name).replayDead();
  }

  /** Stops every deliverer; what was in flight is delivered again after the next open. */
  async close(): Promise<void> {
    await this.changes;
    await Promise.all([...this.deliverers.values()].map((deliverer) => deliverer.stop()));
    this.deliverers.clear();
  }

  private deliverer(name: string): SubscriptionDeliverer {
    checkSubscriptionName(name);
    const deliverer = this.deliverers.get(name);
    if (!deliverer) throw new FoldlineError('unknown_subscription', `no subscription named ${JSON.stringify(name)}`);
    return deliverer;
  }

  private startDeliverer(deliverer: SubscriptionDeliverer): void {
    this.deliverers.set(deliverer.spec.name, deliverer);
    deliverer.start();
  }

  private context(): DelivererContext {
    const { store, logger } = this.options;
    return { store, logger: logger.child({ part: 'subscriptions' }), metrics: this.metrics, options: this.delivery };
  }

  /** Where a subscription's deliveries come from: its views' changes (each checked to be on the change stream), or the ledger's events. */
  private sourceOf(spec: SubscriptionSpec): DeliverySource {
    const { changes, ledger, logger } = this.options;
    if (!spec.views) return new LedgerSource(ledger, this.reads, spec.types && new Set(spec.types));
    if (!changes) throw new FoldlineError('not_streamed', `subscription ${JSON.stringify(spec.name)} delivers changes of ${spec.views.join(', ')}, but no view is on the change stream: start with --change-views`, { path: '/views' });
    spec.views.forEach((view, index) => changes.checkStreamed(view, `/views/${index}`));
    return new ViewChangeSource(changes.log, new Set(spec.views), (error) =>
      logger.warn({ subscription: spec.name, reason: error.message }, 'view subscription resumes at the oldest change kept'),
    );
  }

  private statusOf(deliverer: SubscriptionDeliverer, head: Frontier): SubscriptionStatus {
    const { name, url, types, views, createdAt } = deliverer.spec;
    return {
      name,
      url,
      ...(types ? { types } : {}),
      ...(views ? { views } : {}),
      createdAt,
      lag: deliverer.lag(head),
      checkpoint: deliverer.position,
      deadLetters: deliverer.deadLetters,
      delivered: deliverer.delivered,
      failedAttempts: deliverer.failedAttempts,
    };
  }

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const result = this.changes.then(change);
    this.changes = result.catch(() => {});
    return result;
  }
}
