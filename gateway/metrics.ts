import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { Receipt } from '../ledger/types.js';

/** The gateway's Prometheus metrics, plus the default process metrics, in one registry. */
export class GatewayMetrics {
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route' | 'method' | 'status'>;
  private readonly bodyBytes: Histogram;
  private readonly appended: Counter<'stream' | 'outcome'>;
  readonly liveConnections: Gauge;
  readonly liveSubscriptions: Gauge;
  readonly livePushes: Counter;
  readonly liveCoalesced: Counter;
  readonly liveBadMessages: Counter<'code'>;

  constructor(registry: Registry) {
    collectDefaultMetrics({ register: registry });
    const registers = [registry];
    // `route` is the route pattern (or `unmatched`), never the raw path: bounded cardinality.
    const labelNames = ['route', 'method', 'status'] as const;
    this.requests = new Counter({
      name: 'foldline_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status (0: the client went away)',
      labelNames,
      registers,
    });
    this.duration = new Histogram({
      name: 'foldline_http_request_duration_seconds',
      help: 'Time from request to answer',
      labelNames,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.bodyBytes = new Histogram({
      name: 'foldline_http_request_body_bytes',
      help: 'Sizes of request bodies read',
      buckets: [256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 8_388_608],
      registers,
    });
    this.appended = new Counter({
      name: 'foldline_events_appended_total',
      help: 'Events acknowledged by the ledger, by stream and outcome (new or duplicate)',
      labelNames: ['stream', 'outcome'],
      registers,
    });
    this.liveConnections = new Gauge({ name: 'foldline_live_connections', help: 'Open /v1/live WebSockets', registers });
    this.liveSubscriptions = new Gauge({ name: 'foldline_live_subscriptions', help: 'View subscriptions held by /v1/live WebSockets', registers });
    this.livePushes = new Counter({ name: 'foldline_live_pushes_total', help: 'View values sent to /v1/live subscribers', registers });
    this.liveCoalesced = new Counter({
      name: 'foldline_live_coalesced_total',
      help: 'View values never sent because a newer value of the same subscription replaced them while waiting (slow clients)',
      registers,
    });
    this.liveBadMessages = new Counter({
      name: 'foldline_live_bad_messages_total',
      help: 'Messages on /v1/live answered with an error frame, by error code',
      labelNames: ['code'],
      registers,
    });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const labels = { route, method, status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }

  observeBody(bytes: number): void {
    this.bodyBytes.observe(bytes);
  }

  countAppended(receipts: readonly Receipt[]): void {
    // One increment per label pair, not per event: batches hold thousands.
    const counts = new Map<string, { stream: string; outcome: string; count: number }>();
    for (const { stream, duplicate } of receipts) {
      const outcome = duplicate ? 'duplicate' : 'new';
      const id = `${outcome}:${stream}`;
      const entry = counts.get(id) ?? { stream, outcome, count: 0 };
      entry.count++;
      counts.set(id, entry);
    }
    for (const { stream, outcome, count } of counts.values()) this.appended.inc({ stream, outcome }, count);
  }
}
