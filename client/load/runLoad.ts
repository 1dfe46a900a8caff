import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FoldlineError } from '../../base/errors.js';
import { httpAppender, wsAppender, type AppendMode } from './appenders.js';
import { scheduleArrivals } from './arrivals.js';
import { preloadCatalog } from './catalog.js';
import { LatencyRecorder, type LatencySummary } from './latencyRecorder.js';
import { ScenarioDriver, scenarioViews, type ScenarioName } from './scenarios.js';
import { openSubscribers } from './subscribers.js';
import { EffectTracker } from './tracker.js';

export interface LoadOptions {
  /** Base URL of a foldline server, such as http://127.0.0.1:8080. */
  url: string;
  scenario: ScenarioName;
  /** Appends (user actions) per second, sent on schedule whatever the answers. */
  rate: number;
  durationSeconds: number;
  /**
   * Seconds of the same load sent first and then drained, left out of every figure but
   * errors and timeouts: JIT compilation and first loads belong to starting, not to the
   * steady state. Default 0.
   */
  warmupSeconds?: number;
  /** WebSocket connections, spread round-robin over the customers. */
  subscribers: number;
  /** Customers acted for (≤ subscribers, so that every customer is watched); default: one per subscriber. */
  customers?: number;
  append?: AppendMode;
  /** Products posted before the load (the generator's first product.created events). */
  catalogProducts?: number;
  seed?: number;
  /** Bearer JWT for every call (a staff or service one: the load acts for many customers). */
  token?: string;
  /** How long an append may go unanswered or unseen; also the drain time after the last append. */
  timeoutMs?: number;
  /** Makes event ids unique to this run; default: from the clock. */
  runId?: string;
  /** Ends the arrivals early (the run still drains and reports). */
  signal?: AbortSignal;
  /** Receives a progress line every second; default: none. */
  progress?: (line: string) => void;
}

export interface LoadReport {
  scenario: ScenarioName;
  append: AppendMode;
  rate: number;
  durationSeconds: number;
  warmupSeconds: number;
  subscribers: number;
  customers: number;
  appends: { sent: number; acknowledged: number; failed: number; eventsAcknowledged: number };
  pushes: number;
  throughput: { eventsPerSecond: number; appendsPerSecond: number; pushesPerSecond: number };
  /** Push received − append sent, once per subscription of the appended view key. */
  latencyMs: LatencySummary;
  /** Append sent − receipts received: the durable-append part of the latency. */
  ackLatencyMs: LatencySummary;
  /** Deliveries owed: acknowledged appends × the subscriptions of their view key. */
  expectedDeliveries: number;
  /** Deliveries not seen within the timeout (or the drain). */
  timeouts: number;
  /** Failed appends and error frames, by code. */
  errors: Record<string, number>;
  /** How late the sender was on its schedule at worst: a large one means the load generator was starved. */
  maxSendLagMs: number;
}

/**
 * Runs a load against a foldline server in the spirit of Serverless Artillery: subscribers
 * on WebSockets, appends at a fixed arrival rate, and the effect-after-cause latency of every
 * append as each subscriber of its view key sees it.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const customers = options.customers ?? options.subscribers;
  if (!(Number.isInteger(customers) && customers >= 1 && customers <= options.subscribers)) {
    throw new FoldlineError('bad_option', `customers must be from 1 to subscribers (${options.subscribers}) so that every customer is watched`);
  }
  if (!(options.rate > 0 && options.durationSeconds > 0)) throw new FoldlineError('bad_option', 'rate and duration must be positive');
  if (!((options.warmupSeconds ?? 0) >= 0)) throw new FoldlineError('bad_option', 'warm-up must not be negative');
  const append = options.append ?? 'http';
  const timeoutMs = options.timeoutMs ?? 5000;
  const seed = options.seed ?? 1;
  const runId = options.runId ?? Date.now().toString(36);
  const auth = options.token === undefined ? {} : { authorization: options.token };
  const views = scenarioViews(options.scenario);
  const customerIds = Array.from({ length: customers }, (_, i) => `c-load-${runId}-${i + 1}`);

  const { skus, token: catalogToken } = await preloadCatalog(options.url, seed, options.catalogProducts ?? 50, options.token);

  const errors: Record<string, number> = {};
  const countError = (error: unknown): void => {
    const code = error instanceof FoldlineError ? error.code : 'unexpected';
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const latencies = new LatencyRecorder();
  const ackLatencies = new LatencyRecorder();
  const tracker = new EffectTracker((ms) => latencies.record(ms));
  const counts = { sent: 0, acknowledged: 0, failed: 0, eventsAcknowledged: 0, expectedDeliveries: 0, pushes: 0 };
  const last = { ack: 0, push: 0 };
  const subscribers = await openSubscribers({
    url: options.url,
    count: options.subscribers,
    customerIds,
    views,
    after: catalogToken,
    ...auth,
    timeoutMs,
    tracker,
    onPush: () => {
      counts.pushes++;
      last.push = performance.now();
    },
    onError: countError,
  });

  const appender = append === 'http' ? httpAppender(options.url, { timeoutMs, ...auth }) : wsAppender({ timeoutMs });
  const driver = new ScenarioDriver(options.scenario, customerIds, skus, runId, seed);
  const busy = (customerId: string): boolean => views.some((view) => tracker.busy(`${view}/${customerId}`));
  const inFlight = new Set<Promise<void>>();
  let maxSendLagMs = 0;
  const fire = (scheduledAt: number): void => {
    const action = driver.next(busy);
    const sentAt = performance.now();
    maxSendLagMs = Math.max(maxSendLagMs, sentAt - scheduledAt);
    const ticket = tracker.sent(`${action.view}/${action.customerId}`, sentAt);
    counts.sent++;
    const done: Promise<void> = appender
      .append(action.events, subscribers.socketOf(action.customerId))
      .then(
        (reply) => {
          counts.acknowledged++;
          counts.eventsAcknowledged += action.events.length;
          counts.expectedDeliveries += ticket.subscriptions.length;
          last.ack = performance.now();
          ackLatencies.record(last.ack - sentAt);
          tracker.acknowledged(ticket, reply.receipts);
        },
        (error: unknown) => {
          counts.failed++;
          countError(error);
          tracker.failed(ticket);
        },
      )
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };

  let started = performance.now();
  const progress = setInterval(() => {
    tracker.expire(performance.now() - timeoutMs);
    const l = latencies.takeInterval();
    options.progress?.(
      `load ${Math.round((performance.now() - started) / 1000)}s  sent ${counts.sent}  acked ${counts.acknowledged}  pushes ${counts.pushes}  ` +
        `p50 ${l.p50} ms  p99 ${l.p99} ms  max ${l.max} ms  failed ${counts.failed}  timeouts ${tracker.timeouts}`,
    );
  }, 1000);
  const sendFor = async (seconds: number): Promise<void> => {
    await scheduleArrivals(options.rate, Math.round(options.rate * seconds), fire, options.signal ?? new AbortController().signal);
    // Drain: answers and pushes still under way, for at most one timeout.
    const drainUntil = performance.now() + timeoutMs;
    while ((inFlight.size > 0 || tracker.outstanding > 0) && performance.now() < drainUntil) await sleep(10);
  };
  const warmupSeconds = options.warmupSeconds ?? 0;
  try {
    if (warmupSeconds > 0) {
      await sendFor(warmupSeconds);
      for (const recorder of [latencies, ackLatencies]) recorder.reset();
      Object.assign(counts, { sent: 0, acknowledged: 0, failed: 0, eventsAcknowledged: 0, expectedDeliveries: 0, pushes: 0 });
      maxSendLagMs = 0;
      started = performance.now();
    }
    await sendFor(options.durationSeconds);
  } finally {
    clearInterval(progress);
    appender.close();
    await subscribers.close();
  }
  tracker.expire(Number.POSITIVE_INFINITY);
  const perSecond = (n: number, until: number): number => (until > started ? round((n * 1000) / (until - started)) : 0);
  return {
    scenario: options.scenario,
    append,
    rate: options.rate,
    durationSeconds: options.durationSeconds,
    warmupSeconds,
    subscribers: options.subscribers,
    customers,
    appends: { sent: counts.sent, acknowledged: counts.acknowledged, failed: counts.failed, eventsAcknowledged: counts.eventsAcknowledged },
    pushes: counts.pushes,
    throughput: {
      eventsPerSecond: perSecond(counts.eventsAcknowledged, last.ack),
      appendsPerSecond: perSecond(counts.acknowledged, last.ack),
      pushesPerSecond: perSecond(counts.pushes, last.push),
    },
    latencyMs: latencies.summary(),
    ackLatencyMs: ackLatencies.summary(),
    expectedDeliveries: counts.expectedDeliveries,
    timeouts: tracker.timeouts,
    errors,
    maxSendLagMs: round(maxSendLagMs),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
