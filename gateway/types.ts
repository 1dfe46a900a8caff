import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Frontier } from '../crdt/index.js';
import type { ChangeFeed } from '../joiner/changeFeed.js';
import type { ViewExplainer } from '../joiner/explain.js';
import type { ViewValue } from '../joiner/types.js';
import type { CloudEvent, Ledger } from '../ledger/types.js';
import type { SubscriptionAdmin } from '../subscriptions/subscriptions.js';

/**
 * Checks a whole batch of decoded request values before anything is appended: returns the
 * events, or throws a FoldlineError naming the bad event's `index` and JSON `path`, whose
 * message says what is wrong without naming the event (its caller does: "event 3: …" over
 * HTTP, "line 4: …" in the CLI). The domain supplies it; the gateway knows no event types.
 * It must not change the values: an event returned as the very value it was given is stored
 * as the text it came in.
 */
export type ValidateEvents = (values: unknown[]) => CloudEvent[];

/** What the gateway reads views through (the joiner's ViewEngine satisfies it). */
export interface GatewayViews {
  /** Never an older value than `after`: throws 503 `not_caught_up` after `waitMs` instead. */
  read(view: string, key: string, options: { after?: Frontier; waitMs?: number }): Promise<ViewValue>;
  /**
   * Calls `listener` with the current value (reflecting at least `after`, else 503
   * `not_caught_up` after `waitMs`), then with every new value; resolves to the unsubscribe function.
   */
  subscribe(view: string, key: string, listener: (value: ViewValue) => void, options: { after?: Frontier; waitMs?: number }): Promise<() => void>;
  /** Throws what a read would for the view's name (404 `unknown_view`) or the key (the view's refusal). */
  checkViewKey(view: string, key: string): void;
  /** Everything folded so far. */
  frontier(): Frontier;
}

/** Who a verified bearer token speaks for: its `sub` and `role` claims (a role of the access policy's). */
export interface Principal {
  sub: string;
  role: string;
  /** When the token expires (ms since the epoch): a WebSocket it opened is closed then. */
  expiresAt?: number;
}

/** The refusal of an append, naming the event (its index in the batch) and the JSON path at fault. */
export type AppendDecision = { allowed: true } | { allowed: false; index: number; path: string; message: string };

/**
 * The domain's access rules, injected (the gateway knows no views or event types). Consulted
 * only when auth is on; every principal reaching it has a verified token.
 */
export interface AccessPolicy {
  /** The roles a token may carry; a token with any other is refused (401 `invalid_token`). */
  readonly roles: readonly string[];
  /** May read the service's own state (metrics) and operate it. */
  isOperator(principal: Principal): boolean;
  /** Readable and subscribable by anyone, without a token. */
  isPublicView(view: string): boolean;
  canRead(principal: Principal, view: string, key: string): boolean;
  canAppend(principal: Principal, events: readonly CloudEvent[]): AppendDecision;
}

export interface AuthOptions {
  /** The HS256 key: at least 32 bytes of UTF-8. */
  secret: string;
  policy: AccessPolicy;
  /** Slack for `exp` and `nbf`, in seconds (default 5). */
  clockToleranceSeconds?: number;
}

/** Signs a bearer token for a principal of the policy's roles, valid for `expiresInSeconds`. */
export type SignToken = (principal: Omit<Principal, 'expiresAt'>, expiresInSeconds: number) => Promise<string>;

/** A route the domain adds (a demo's sign-in, the lists a page offers): JSON in, JSON out. */
export interface ExtraRoute {
  method: 'GET' | 'POST';
  pattern: string;
  /** Reachable without a token when auth is on (the demo sign-in itself). */
  public: boolean;
  /**
   * `body` is the decoded JSON body of a POST (undefined for a GET); the result is answered
   * 200. `signToken` is there when auth is on.
   */
  handle(request: { params: Readonly<Record<string, string>>; body: unknown; principal: Principal | undefined; signToken: SignToken | undefined }): Promise<unknown>;
}

/** A file served as is at its path (GET and HEAD), with an ETag. */
export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

export interface GatewayLimits {
  /** Largest request body accepted; past it, 413 `body_too_large`. */
  maxBodyBytes: number;
  /** Most events in one batch; past it, 413 `batch_too_large`. */
  maxBatch: number;
  /** Longest `wait` a view read may ask for; longer ones are cut to it. */
  maxWaitMs: number;
  /** The `wait` of a read with `after` and no `wait`, of a subscribe with `after` and of a write-through `await`. */
  defaultWaitMs: number;
  /** Largest WebSocket message accepted; uWebSockets.js closes the connection with 1009 past it. */
  maxFrameBytes: number;
  /** Subscriptions one WebSocket may hold at once. */
  maxSubscriptions: number;
  /** Appends one WebSocket may have in flight at once. */
  maxPendingAppends: number;
  /** Past this many bad messages within `badFrameWindowMs`, the WebSocket is closed with 1008. */
  maxBadFrames: number;
  badFrameWindowMs: number;
  /** Buffered bytes past which view pushes to a WebSocket are held back, keeping only the newest per subscription. */
  pushBackpressureBytes: number;
  /** Buffered bytes past which a WebSocket that does not read is closed. */
  maxBackpressureBytes: number;
  /** Seconds without traffic before a WebSocket is closed; pings are sent automatically before that. */
  idleTimeoutSeconds: number;
}

export const defaultLimits: GatewayLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxBatch: 10_000,
  maxWaitMs: 30_000,
  defaultWaitMs: 5_000,
  maxFrameBytes: 64 * 1024,
  maxSubscriptions: 100,
  maxPendingAppends: 16,
  maxBadFrames: 20,
  badFrameWindowMs: 10_000,
  pushBackpressureBytes: 256 * 1024,
  maxBackpressureBytes: 16 * 1024 * 1024,
  idleTimeoutSeconds: 120,
};

export interface GatewayOptions {
  ledger: Ledger;
  validate: ValidateEvents;
  views: GatewayViews;
  host: string;
  /** 0 picks a free port. */
  port: number;
  limits?: Partial<GatewayLimits>;
  logger: Logger;
  /** The gateway registers its metrics and the default process metrics here: one registry per gateway. */
  registry: Registry;
  /** Metrics kept elsewhere (a worker thread's registry), in Prometheus text, served after the registry's. */
  moreMetrics?: () => Promise<string>;
  /** Without it every call is allowed, and the gateway listens on loopback addresses only. */
  auth?: AuthOptions;
  /**
   * Origins a browser may open a WebSocket from: exact origins (`https://shop.example`), `:*`
   * for any port (`http://localhost:*`), or `*`. Default: the server's own origin, plus any
   * port of localhost, 127.0.0.1 and [::1] when it listens on loopback.
   */
  allowedOrigins?: readonly string[];
  extraRoutes?: readonly ExtraRoute[];
  /** Answers `/v1/views/{view}/{key}/explain`; without it there is no such route. */
  explainer?: ViewExplainer;
  /** The change stream served at `/v1/changes`; without it there is no such route. */
  changes?: ChangeFeed;
  /** Webhook subscriptions to manage at `/v1/subscriptions` (operators only); without it there is no such route. */
  subscriptions?: SubscriptionAdmin;
  /** Files by URL path (`/` is the page). */
  assets?: ReadonlyMap<string, StaticAsset>;
}

export interface Gateway {
  /** The port it listens on (the chosen one when asked for 0). */
  port: number;
  close(): Promise<void>;
}
