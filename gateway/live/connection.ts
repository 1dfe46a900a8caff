import type { Logger } from 'pino';
import { FoldlineError } from '../../base/errors.js';
import { pairKey } from '../../base/pairKey.js';
import type { Frontier } from '../../crdt/index.js';
import type { ViewValue } from '../../joiner/types.js';
import { encodeToken } from '../../ledger/token.js';
import type { Appender } from '../append.js';
import type { AccessGuard } from '../auth/guard.js';
import { asFoldlineError, errorBody } from '../http/answer.js';
import { withTraceparent } from '../http/traceparent.js';
import type { GatewayMetrics } from '../metrics.js';
import type { GatewayLimits, GatewayViews, Principal } from '../types.js';
import { FrameError, parseClientFrame, type ClientFrame, type Ref } from './protocol.js';

/** The part of a uWebSockets.js WebSocket a connection uses. */
export interface LiveSocket {
  send(message: string): number;
  getBufferedAmount(): number;
  cork(callback: () => void): unknown;
  end(code: number, reason: string): void;
}

export interface ConnectionDependencies {
  views: GatewayViews;
  appender: Appender;
  guard: AccessGuard;
  metrics: GatewayMetrics;
  limits: GatewayLimits;
  logger: Logger;
  /** Calls `flush` of the connection soon; a connection asks again only after its flush ran. */
  scheduleFlush(connection: LiveConnection): void;
}

interface Subscription {
  view: string;
  key: string;
  /** Set once the engine has registered it. */
  unsubscribe?: () => void;
  /** The newest value not yet sent. */
  pending?: ViewValue;
  /** Unsubscribed or replaced: values for it are dropped. */
  dropped: boolean;
}

/**
 * Frames built during one flush pass, so that a value going to many subscribers is
 * serialised once. Plain maps dropped after the pass: a WeakMap keyed by every short-lived
 * value costs more in garbage collection than the serialising it saves.
 */
export class FrameCache {
  private readonly frames = new Map<ViewValue, string>();
  /** Values recomputed after one folded batch share their frontier object, hence one token. */
  private readonly tokens = new Map<Frontier, string>();

  frameOf(value: ViewValue): string {
    let frame = this.frames.get(value);
    if (frame === undefined) {
      let token = this.tokens.get(value.frontier);
      if (token === undefined) this.tokens.set(value.frontier, (token = encodeToken(value.frontier)));
      frame = viewFrame(value, token);
      this.frames.set(value, frame);
    }
    return frame;
  }
}

/**
 * One `/v1/live` WebSocket: its subscriptions and appends. View values are never queued
 * without bound: each subscription has at most one pending value, the newest, sent as soon as
 * the socket's send buffer is under `pushBackpressureBytes` (on the next flush or drain).
 * Nothing here throws into uWebSockets.js: every failure becomes an error frame.
 *
 * The push path adds and removes no Map or Set entries: a long-lived Map or Set whose entries
 * come and go gets each new hash table allocated in V8's old space, so every push made garbage
 * only a major GC frees (the live bench's push part showed it; docs/benchmarks.md). Pending
 * values live on their subscriptions and the send order in an array.
 */
export class LiveConnection {
  private readonly subscriptions = new Map<string, Subscription>();
  /** Subscriptions with a pending value, in first-pending order (dropped ones are skipped). */
  private sendQueue: Subscription[] = [];
  /** A flush is scheduled and has not run yet. */
  private flushScheduled = false;
  private closed = false;
  private appendsInFlight = 0;
  private badFrames = 0;
  private badWindowStart = 0;
  private readonly expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: LiveSocket,
    private readonly principal: Principal | undefined,
    private readonly deps: ConnectionDependencies,
  ) {
    deps.metrics.liveConnections.inc();
    // The token authorized the upgrade; the connection must not outlive it.
    if (principal?.expiresAt !== undefined) {
      const remaining = Math.min(Math.max(0, principal.expiresAt - Date.now()), 2 ** 31 - 1);
      this.expiry = setTimeout(() => this.end(1008, 'token_expired'), remaining);
      this.expiry.unref();
    }
  }

  receive(message: ArrayBuffer, isBinary: boolean): void {
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(message, isBinary, this.deps.limits.maxBatch);
    } catch (error) {
      const refused = error instanceof FrameError ? error : new FrameError(asFoldlineError(error), undefined);
      this.deps.metrics.liveBadMessages.inc({ code: refused.error.code });
      this.sendError(refused.ref, refused.error);
      this.countBadFrame();
      return;
    }
    try {
      if (frame.op === 'subscribe') this.subscribe(frame);
      else if (frame.op === 'unsubscribe') this.drop(pairKey(frame.view, frame.key));
      else this.append(frame);
    } catch (error) {
      this.sendError(frame.ref, error);
    }
  }

  /** Sends pending view values while the socket's buffer allows. */
  flush(frames: FrameCache): void {
    this.flushScheduled = false;
    if (this.closed || this.sendQueue.length === 0) return;
    this.socket.cork(() => this.sendPending(frames));
  }

  /** Sends pending values in first-pending order until the socket's buffer is full (run corked). */
  private sendPending(frames: FrameCache): void {
    const limit = this.deps.limits.pushBackpressureBytes;
    const queue = this.sendQueue;
    let next = 0;
    let sent = 0;
    while (next < queue.length && this.socket.getBufferedAmount() <= limit) {
      const subscription = queue[next++]!;
      const value = subscription.pending;
      if (value === undefined) continue;
      subscription.pending = undefined;
      this.socket.send(frames.frameOf(value));
      sent++;
    }
    // What waits keeps its order; dropped subscriptions leave, so the queue stays within the subscriptions.
    this.sendQueue = next === queue.length ? [] : queue.slice(next).filter((subscription) => subscription.pending !== undefined);
    this.deps.metrics.livePushes.inc(sent);
  }

  /** The socket closed (uWebSockets.js close handler): it must not be touched again. */
  closedBySocket(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiry);
    for (const id of [...this.subscriptions.keys()]) this.drop(id);
    this.deps.metrics.liveConnections.dec();
  }

  private subscribe(frame: Extract<ClientFrame, { op: 'subscribe' }>): void {
    const { view, key, after, ref } = frame;
    const { views, guard, limits, metrics } = this.deps;
    const id = pairKey(view, key);
    // A subscribe replaces an earlier one to the same view key (a re-subscribe with a newer `after`).
    this.drop(id);
    if (this.subscriptions.size >= limits.maxSubscriptions) {
      throw new FoldlineError('too_many_subscriptions', `a connection may hold at most ${limits.maxSubscriptions} subscriptions`);
    }
    guard.checkRead(this.principal, view, key);
    const subscription: Subscription = { view, key, dropped: false };
    this.subscriptions.set(id, subscription);
    metrics.liveSubscriptions.inc();
    const options = after ? { after, waitMs: Math.min(limits.defaultWaitMs, limits.maxWaitMs) } : {};
    views
      .subscribe(view, key, (value) => this.push(subscription, value), options)
      .then(
        (unsubscribe) => {
          if (subscription.dropped) unsubscribe();
          else subscription.unsubscribe = unsubscribe;
        },
        (error: unknown) => {
          if (subscription.dropped) return;
          this.drop(id);
          this.sendError(ref, error);
        },
      );
  }

  private push(subscription: Subscription, value: ViewValue): void {
    if (this.closed || subscription.dropped) return;
    if (subscription.pending === undefined) this.sendQueue.push(subscription);
    else this.deps.metrics.liveCoalesced.inc();
    subscription.pending = value;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.deps.scheduleFlush(this);
  }

  private drop(id: string): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return;
    this.subscriptions.delete(id);
    subscription.dropped = true;
    subscription.pending = undefined;
    subscription.unsubscribe?.();
    this.deps.metrics.liveSubscriptions.dec();
  }

  private append(frame: Extract<ClientFrame, { op: 'append' }>): void {
    const { limits, appender } = this.deps;
    if (this.appendsInFlight >= limits.maxPendingAppends) {
      throw new FoldlineError('too_many_appends', `a connection may have at most ${limits.maxPendingAppends} appends in flight`);
    }
    this.appendsInFlight++;
    // The answers keep the ref, not the frame: its events need not outlive the append.
    const { ref } = frame;
    appender
      .append(withTraceparent({ values: frame.events }, frame.traceparent), this.principal, frame.await, frame.wait)
      .then(
        (appended) => this.send({ op: 'receipts', ...(ref === undefined ? {} : { ref }), ...appended }),
        (error: unknown) => this.sendError(ref, error),
      )
      .finally(() => this.appendsInFlight--);
  }

  private sendError(ref: Ref | undefined, error: unknown): void {
    const failure = asFoldlineError(error);
    if (failure.code === 'internal') this.deps.logger.error({ err: error }, 'live request failed');
    this.send({ op: 'error', ...(ref === undefined ? {} : { ref }), ...errorBody(failure) });
  }

  /** Answers (receipts, errors) go out at once: they answer the client's own frames, and a client that never reads is closed at maxBackpressureBytes. */
  private send(frame: Record<string, unknown>): void {
    if (this.closed) return;
    const text = JSON.stringify(frame);
    this.socket.cork(() => this.socket.send(text));
  }

  /** Past `maxBadFrames` bad frames within `badFrameWindowMs`: 1008 policy violation. */
  private countBadFrame(): void {
    const now = Date.now();
    if (now - this.badWindowStart > this.deps.limits.badFrameWindowMs) {
      this.badWindowStart = now;
      this.badFrames = 0;
    }
    if (++this.badFrames > this.deps.limits.maxBadFrames) this.end(1008, 'too many bad messages');
  }

  private end(code: number, reason: string): void {
    if (this.closed) return;
    // uWebSockets.js calls the close handler (closedBySocket) from within end().
    this.socket.end(code, reason);
  }
}

/** `{op:"view", view, key, token, traceparent?, value}`, the value's JSON text taken as it is. */
export function viewFrame(value: ViewValue, token: string): string {
  const trace = value.traceparent === undefined ? '' : `,"traceparent":"${value.traceparent}"`;
  return `{"op":"view","view":${JSON.stringify(value.view)},"key":${JSON.stringify(value.key)},"token":${JSON.stringify(token)}${trace},"value":${value.json}}`;
}

