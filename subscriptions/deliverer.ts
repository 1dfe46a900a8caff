import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isTraceparent } from '../base/traceparent.js';
import { frontierAdvance, mergeFrontiers, positionKey, type Frontier } from '../crdt/index.js';
import type { Ledger, LedgerRecord } from '../ledger/types.js';
import { KeyedQueue } from '../projections/keyedQueue.js';
import { retryDelay, type RetryPolicy } from './backoff.js';
import type { SubscriptionMetrics } from './metrics.js';
import { signature, signatureHeader } from './signature.js';
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
  ledger: Ledger;
  store: SubscriptionStore;
  metrics: SubscriptionMetrics;
  logger: Logger;
  options: DeliveryOptions;
}

/** A failing read of the ledger is tried again after this long. */
const readRetryMs = 1000;

/**
 * One subscription's deliveries: it reads the ledger itself from its own checkpoint, so a
 * slow or failing endpoint holds back only this subscription, never another one nor the
 * projections. Records are read in rounds (up to `batchSize` per shard); a round's events
 * are POSTed one key at a time in ledger order and keys concurrently (KeyedQueue), each
 * retried with backoff and, after its last attempt, kept as a dead letter; then the
 * checkpoint moves past the round. Delivery is at least once: a stop mid-round delivers
 * the round again at the next start.
 */
export class SubscriptionDeliverer {
  private checkpoint: Frontier;
  private readonly stopping = new AbortController();
  private readonly poster: WebhookPoster;
  private readonly queue: KeyedQueue;
  private readonly types: ReadonlySet<string> | undefined;
  private running: Promise<void> = Promise.resolve();
  /** Dead letters it holds (kept in step with the store, for the metrics). */
  deadLetters: number;
  /** Since this deliverer started: events delivered, and attempts that failed. */
  delivered = 0;
  failedAttempts = 0;

  constructor(
    readonly spec: SubscriptionSpec,
    checkpoint: Frontier,
    deadLetters: number,
    private readonly context: DelivererContext,
  ) {
    this.checkpoint = checkpoint;
    this.deadLetters = deadLetters;
    const { concurrency, timeoutMs } = context.options;
    this.poster = new WebhookPoster(spec.url, concurrency, timeoutMs);
    this.queue = new KeyedQueue({ concurrency });
    this.types = spec.types && new Set(spec.types);
  }

  start(): void {
    this.running = this.run();
  }

  /** Records of the ledger past its checkpoint, given the ledger's head. */
  lag(head: Frontier): number {
    let lag = 0n;
    for (const [position, seq] of Object.entries(head)) {
      const behind = BigInt(seq) - BigInt(this.checkpoint[position] ?? '0');
      if (behind > 0n) lag += behind;
    }
    return Number(lag);
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
      letters.map((letter) =>
        this.queue.push(keyOf(letter.position, letter.event.subject), async () => {
          const outcome = await this.deliver(letter.event);
          if (outcome === 'delivered') delivered.push(letter);
          else if (outcome !== 'stopped') stillDead.push({ ...letter, attempts: letter.attempts + outcome.attempts, reason: outcome.reason, at: new Date().toISOString() });
        }),
      ),
    );
    await store.settleDead(this.spec.name, delivered, stillDead);
    this.deadLetters -= delivered.length;
    metrics.deliveries.inc({ subscription: this.spec.name, outcome: 'replayed' }, delivered.length);
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
    const { ledger, logger } = this.context;
    const signal = this.stopping.signal;
    const streams = ledger.streams.map(({ name }) => name);
    while (!signal.aborted) {
      try {
        const records = await this.readRound();
        if (records.length === 0) await ledger.waitForAppend(streams, this.checkpoint, signal);
        else await this.deliverRound(records);
      } catch (error) {
        if (signal.aborted) return;
        logger.error({ err: error, subscription: this.spec.name }, 'subscription round failed; trying again');
        await sleep(readRetryMs, undefined, { signal }).catch(() => {});
      }
    }
  }

  private async readRound(): Promise<LedgerRecord[]> {
    const { ledger, options } = this.context;
    const records: LedgerRecord[] = [];
    for (const { name, shards } of ledger.streams) {
      for (let shard = 0; shard < shards; shard++) {
        records.push(...(await ledger.read(name, shard, this.checkpoint[positionKey(name, shard)] ?? null, options.batchSize)));
      }
    }
    return records;
  }

  private async deliverRound(records: readonly LedgerRecord[]): Promise<void> {
    const next = mergeFrontiers(this.checkpoint);
    const dead: DeadDelivery[] = [];
    let stopped = false;
    const deliveries: Array<Promise<void>> = [];
    for (const record of records) {
      const position = positionKey(record.stream, record.shard);
      frontierAdvance(next, position, record.seq);
      if (this.types && !this.types.has(record.event.type)) continue;
      deliveries.push(
        this.queue.push(keyOf(position, record.event.subject), async () => {
          const outcome = await this.deliver(record.event);
          if (outcome === 'stopped') stopped = true;
          else if (outcome !== 'delivered') dead.push({ subscription: this.spec.name, position, seq: record.seq, event: record.event, ...outcome, at: new Date().toISOString() });
        }),
      );
    }
    await Promise.all(deliveries);
    if (stopped) return;
    await this.context.store.advance(this.spec.name, next, dead);
    this.checkpoint = next;
    this.deadLetters += dead.length;
    if (dead.length > 0) this.context.metrics.deliveries.inc({ subscription: this.spec.name, outcome: 'dead' }, dead.length);
  }

  /** POSTs one event, retrying with backoff: delivered, stopped meanwhile, or how it last failed. */
  private async deliver(event: LedgerRecord['event']): Promise<'delivered' | 'stopped' | { attempts: number; reason: string }> {
    const { retry } = this.context.options;
    const { metrics } = this.context;
    const signal = this.stopping.signal;
    const subscription = this.spec.name;
    const body = JSON.stringify(event);
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
      const failure = await this.poster.post(body, this.headers(event, body));
      if (failure === undefined) {
        metrics.deliverySeconds.observe({ subscription }, (performance.now() - started) / 1000);
        metrics.deliveries.inc({ subscription, outcome: 'delivered' });
        this.delivered++;
        return 'delivered';
      }
      metrics.failedAttempts.inc({ subscription });
      this.failedAttempts++;
      reason = failure;
      if (signal.aborted) return 'stopped';
    }
    return { attempts: retry.attempts, reason };
  }

  private headers(event: LedgerRecord['event'], body: string): Record<string, string> {
    const traceparent = event['traceparent'];
    return {
      'content-type': 'application/cloudevents+json',
      [signatureHeader]: signature(this.spec.secret, Math.floor(Date.now() / 1000), body),
      // Percent-encoded: an id may hold what a header may not. The body has it as it is.
      'foldline-event-id': encodeURIComponent(event.id),
      'foldline-subscription': this.spec.name,
      // The trace the event came with, passed on as it is.
      ...(isTraceparent(traceparent) ? { traceparent } : {}),
    };
  }
}

/** Events of one key are delivered in ledger order: a key lives in one shard. */
function keyOf(position: string, subject: string): string {
  return `${position}\u0000${subject}`;
}
