import type { KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Frontier } from '../crdt/index.js';
import type { CloudEvent } from '../ledger/types.js';
import { KeyedQueue } from '../projections/keyedQueue.js';
import { retryDelay, type RetryPolicy } from './backoff.js';
import { eventDeliverable, type Deliverable, type DeliverySource } from './deliverySource.js';
import type { SubscriptionMetrics, SubscriptionSeries } from './metrics.js';
import { signature, signatureHeader, signingKey } from './signature.js';
import type { DeadDelivery, ReplayOutcome, SubscriptionSpec, SubscriptionStore } from './types.js';
import { WebhookPoster } from './webhookPoster.js';

export interface DeliveryOptions {
  retry: RetryPolicy;
  /** Deliveries of one subscription in flight at once, over different keys. */
  concurrency: number;
  /** Records read from each shard per round. */
  batchSize: number;
  /** Longest wait for an endpoint's answer, ms. */
  timeoutMs: number;
}

export interface DelivererContext {
  store: SubscriptionStore;
  metrics: SubscriptionMetrics;
  logger: Logger;
  options: DeliveryOptions;
}

/** A failing read of the ledger is tried again after this long. */
const readRetryMs = 1000;

/**
 * One subscription's deliveries: it reads its source (the ledger's events, or views' changes)
 * itself from its own checkpoint, so a slow or failing endpoint holds back only this
 * subscription, never another one nor the projections. Items are read in rounds (up to
 * `batchSize` per shard); a round's items are POSTed one key at a time in order and keys
 * concurrently (KeyedQueue), each retried with backoff and, after its last attempt, kept as a
 * dead letter; then the checkpoint moves past the round. Delivery is at least once: a stop
 * mid-round delivers the round again at the next start.
 */
export class SubscriptionDeliverer {
  private checkpoint: Frontier;
  private readonly stopping = new AbortController();
  private readonly poster: WebhookPoster;
  private readonly key: KeyObject;
  private readonly queue: KeyedQueue;
  private running: Promise<void> = Promise.resolve();
  /** Its metrics' series, labelled once (not per delivery). */
  private readonly counters: SubscriptionSeries;
  /** Dead letters it holds (kept in step with the store, for the metrics). */
  deadLetters: number;
  /** Since this deliverer started: events delivered, and attempts that failed. */
  delivered = 0;
  failedAttempts = 0;

  constructor(
    readonly spec: SubscriptionSpec,
    checkpoint: Frontier,
    deadLetters: number,
    private readonly source: DeliverySource,
    private readonly context: DelivererContext,
  ) {
    this.checkpoint = checkpoint;
    this.deadLetters = deadLetters;
    const { concurrency, timeoutMs } = context.options;
    this.poster = new WebhookPoster(spec.url, concurrency, timeoutMs);
    this.key = signingKey(spec.secret);
    this.queue = new KeyedQueue({ concurrency });
    this.counters = context.metrics.of(spec.name);
  }

  start(): void {
    this.running = this.run();
  }

  /** Items past its checkpoint, given the ledger's head. */
  lag(head: Frontier): number {
    return this.source.lag(this.checkpoint, head);
  }

  get position(): Frontier {
    return this.checkpoint;
  }

  /** Delivers its dead letters again, each with its retries; those that fail again stay. */
  async replayDead(): Promise<ReplayOutcome> {
    const { store, metrics } = this.context;
    const letters = await store.deadLetters(this.spec.name);
    const delivered: DeadDelivery[] = [];
    const stillDead: DeadDelivery[] = [];
    await Promise.all(
      letters.map((letter) => {
        // Ordered with the live deliveries of its key, and sent as it was.
        const item = eventDeliverable(letter.event, letter.position, letter.seq);
        return this.queue.push(item.key, async () => {
          const outcome = await this.deliver(item);
          if (outcome === 'delivered') delivered.push(letter);
          else if (outcome !== 'stopped') stillDead.push({ ...letter, attempts: letter.attempts + outcome.attempts, reason: outcome.reason, at: new Date().toISOString() });
        });
      }),
    );
    await store.settleDead(this.spec.name, delivered, stillDead);
    this.deadLetters -= delivered.length;
    this.counters.replayed.inc(delivered.length);
    return { name: this.spec.name, replayed: letters.length, delivered: delivered.length, stillDead: stillDead.length };
  }

  /** Stops reading and delivering; what was in flight is delivered again at the next start. */
  async stop(): Promise<void> {
    this.stopping.abort();
    // POSTs in flight fail at once, rather than holding the stop up to their timeout.
    await this.poster.close();
    await this.running;
    await this.queue.onIdle();
  }

  private async run(): Promise<void> {
    const { logger, options } = this.context;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        const round = await this.source.round(this.checkpoint, options.batchSize);
        if (round === undefined) await this.source.waitForMore(this.checkpoint, signal);
        else await this.deliverRound(round.items, round.next);
      } catch (error) {
        if (signal.aborted) return;
        logger.error({ err: error, subscription: this.spec.name }, 'subscription round failed; trying again');
        await sleep(readRetryMs, undefined, { signal }).catch(() => {});
      }
    }
  }

  private async deliverRound(items: readonly Deliverable[], next: Frontier): Promise<void> {
    const dead: DeadDelivery[] = [];
    let stopped = false;
    // A task per key, delivering that key's items in order: the queue runs keys concurrently,
    // and holds a task per key rather than per item (a round may hold many). The longest
    // runs go first: the longest is the least time the round takes.
    const runs = [...itemsByKey(items).values()].sort((a, b) => b.length - a.length);
    await Promise.all(
      runs.map((run) =>
        this.queue.push(run[0]!.key, async () => {
          for (const item of run) {
            const outcome = await this.deliver(item);
            if (outcome === 'stopped') {
              stopped = true;
              return;
            }
            if (outcome !== 'delivered') {
              const event = JSON.parse(item.body.toString('utf8')) as CloudEvent;
              dead.push({ subscription: this.spec.name, position: item.position, seq: item.seq, event, ...outcome, at: new Date().toISOString() });
            }
          }
        }),
      ),
    );
    if (stopped) return;
    await this.context.store.advance(this.spec.name, next, dead);
    this.checkpoint = next;
    this.deadLetters += dead.length;
    if (dead.length > 0) this.counters.dead.inc(dead.length);
  }

  /** POSTs one item, retrying with backoff: delivered, stopped meanwhile, or how it last failed. */
  private async deliver(item: Deliverable): Promise<'delivered' | 'stopped' | { attempts: number; reason: string }> {
    const { retry } = this.context.options;
    const signal = this.stopping.signal;
    let reason = '';
    for (let attempt = 1; attempt <= retry.attempts; attempt++) {
      if (attempt > 1) {
        try {
          await sleep(retryDelay(retry, attempt - 1), undefined, { signal });
        } catch {
          return 'stopped';
        }
      }
      const started = performance.now();
      const failure = await this.poster.post(item.body, this.headers(item));
      if (failure === undefined) {
        this.counters.seconds.observe((performance.now() - started) / 1000);
        this.counters.delivered.inc();
        this.delivered++;
        return 'delivered';
      }
      this.counters.failedAttempts.inc();
      this.failedAttempts++;
      reason = failure;
      if (signal.aborted) return 'stopped';
    }
    return { attempts: retry.attempts, reason };
  }

  private headers(item: Deliverable): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/cloudevents+json',
      [signatureHeader]: signature(this.key, Math.floor(Date.now() / 1000), item.body),
      // Percent-encoded: an id may hold what a header may not. The body has it as it is.
      'foldline-event-id': encodeURIComponent(item.id),
      'foldline-subscription': this.spec.name,
    };
    // The trace the event came with, passed on as it is.
    if (item.traceparent !== undefined) headers['traceparent'] = item.traceparent;
    return headers;
  }
}

/** A round's items by key, each key's in their order. */
function itemsByKey(items: readonly Deliverable[]): Map<string, Deliverable[]> {
  const byKey = new Map<string, Deliverable[]>();
  for (const item of items) {
    const run = byKey.get(item.key);
    if (run) run.push(item);
    else byKey.set(item.key, [item]);
  }
  return byKey;
}
