import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const deliveryOutcomes = ['delivered', 'dead', 'replayed'] as const;
export type DeliveryOutcome = (typeof deliveryOutcomes)[number];

/** What each subscription's lag and dead letters are, asked when /metrics is scraped. */
export interface SubscriptionGauges {
  lags(): Promise<ReadonlyMap<string, number>>;
  deadLetters(): ReadonlyMap<string, number>;
}

/** The webhook subscriptions' Prometheus metrics, labelled by subscription name. */
export class SubscriptionMetrics {
  readonly deliveries: Counter<'subscription' | 'outcome'>;
  readonly failedAttempts: Counter<'subscription'>;
  readonly deliverySeconds: Histogram<'subscription'>;
  private readonly lag: Gauge<'subscription'>;
  private readonly dead: Gauge<'subscription'>;

  constructor(registry: Registry | undefined, gauges: SubscriptionGauges) {
    const registers = registry ? [registry] : [];
    const labelNames = ['subscription'] as const;
    this.deliveries = new Counter({
      name: 'foldline_subscription_deliveries_total',
      help: 'Webhook deliveries finished, by subscription and outcome (delivered; dead: given up after its retries; replayed: a dead letter delivered on replay)',
      labelNames: ['subscription', 'outcome'],
      registers,
    });
    this.failedAttempts = new Counter({
      name: 'foldline_subscription_failed_attempts_total',
      help: 'Webhook delivery attempts that failed (a non-2xx answer, a timeout, a network error), retried or not',
      labelNames,
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'foldline_subscription_delivery_seconds',
      help: 'Time of one successful webhook POST, from sending to the answer',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lag = new Gauge({
      name: 'foldline_subscription_lag_records',
      help: 'Records in the ledger past a subscription\'s checkpoint: what it has still to deliver or skip',
      labelNames,
      registers,
      async collect() {
        this.reset();
        for (const [name, lag] of await gauges.lags()) this.set({ subscription: name }, lag);
      },
    });
    this.dead = new Gauge({
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

  /** Forgets a removed subscription's series. */
  forget(name: string): void {
    for (const outcome of deliveryOutcomes) this.deliveries.remove({ subscription: name, outcome });
    for (const metric of [this.failedAttempts, this.deliverySeconds, this.lag, this.dead]) metric.remove({ subscription: name });
  }
}
