import { Counter, Gauge, type Registry } from 'prom-client';
import { TallyHistogram } from './tallyHistogram.js';

/** A subscription's series of the metrics below. */
export interface SubscriptionSeries {
  delivered: { inc(value?: number): void };
  dead: { inc(value?: number): void };
  replayed: { inc(value?: number): void };
  failedAttempts: { inc(value?: number): void };
  seconds: { observe(value: number): void };
}

export const deliveryOutcomes = ['delivered', 'dead', 'replayed'] as const;
export type DeliveryOutcome = (typeof deliveryOutcomes)[number];

/** What each subscription's lag and dead letters are, asked when /metrics is scraped. */
export interface SubscriptionGauges {
  lags(): Promise<ReadonlyMap<string, number>>;
  deadLetters(): ReadonlyMap<string, number>;
}

/** A running count, added to per delivery and read when /metrics is scraped. */
class Tally {
  value = 0;

  inc(value = 1): void {
    this.value += value;
  }
}

/** One subscription's counts, kept as plain numbers: prom-client's labelled series hash their labels at every call. */
class SubscriptionTallies {
  readonly delivered = new Tally();
  readonly dead = new Tally();
  readonly replayed = new Tally();
  readonly failedAttempts = new Tally();
}

const deliverySecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The webhook subscriptions' Prometheus metrics, labelled by subscription name. Deliveries
 * add to plain tallies, which the metrics read when scraped: prom-client's labelled calls,
 * made per delivery, were a real share of a delivery's own cost (docs/benchmarks.md).
 */
export class SubscriptionMetrics {
  private readonly tallies = new Map<string, SubscriptionTallies>();
  private readonly deliverySeconds: TallyHistogram;

  constructor(registry: Registry | undefined, gauges: SubscriptionGauges) {
    const registers = registry ? [registry] : [];
    const labelNames = ['subscription'] as const;
    const tallies = this.tallies;
    new Counter({
      name: 'foldline_subscription_deliveries_total',
      help: 'Webhook deliveries finished, by subscription and outcome (delivered; dead: given up after its retries; replayed: a dead letter delivered on replay)',
      labelNames: ['subscription', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [subscription, tally] of tallies) {
          for (const outcome of deliveryOutcomes) this.inc({ subscription, outcome }, tally[outcome].value);
        }
      },
    });
    new Counter({
      name: 'foldline_subscription_failed_attempts_total',
      help: 'Webhook delivery attempts that failed (a non-2xx answer, a timeout, a network error), retried or not',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [subscription, tally] of tallies) this.inc({ subscription }, tally.failedAttempts.value);
      },
    });
    this.deliverySeconds = new TallyHistogram({
      name: 'foldline_subscription_delivery_seconds',
      help: 'Time of one successful webhook POST, from sending to the answer',
      label: 'subscription',
      buckets: deliverySecondsBuckets,
    });
    if (registry) this.deliverySeconds.register(registry);
    new Gauge({
      name: 'foldline_subscription_lag_records',
      help: 'Records in the ledger past a subscription\'s checkpoint: what it has still to deliver or skip',
      labelNames,
      registers,
      async collect() {
        this.reset();
        for (const [name, lag] of await gauges.lags()) this.set({ subscription: name }, lag);
      },
    });
    new Gauge({
      name: 'foldline_subscription_dead_letters',
      help: 'Dead letters a subscription holds (deliveries given up on, until replayed)',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [name, count] of gauges.deadLetters()) this.set({ subscription: name }, count);
      },
    });
  }

  /** One subscription's series (the same ones for as long as it is not forgotten). */
  of(subscription: string): SubscriptionSeries {
    let tally = this.tallies.get(subscription);
    if (!tally) {
      tally = new SubscriptionTallies();
      this.tallies.set(subscription, tally);
    }
    return { delivered: tally.delivered, dead: tally.dead, replayed: tally.replayed, failedAttempts: tally.failedAttempts, seconds: this.deliverySeconds.series(subscription) };
  }

  /** Forgets a removed subscription's series. */
  forget(name: string): void {
    this.tallies.delete(name);
    this.deliverySeconds.forget(name);
  }
}
