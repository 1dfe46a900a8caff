import type { Logger } from 'pino';
import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp, type us_socket_context_t } from 'uwebsockets';
import { FoldlineError } from '../../base/errors.js';
import { bearerToken, type AccessGuard } from '../auth/guard.js';
import { asFoldlineError, errorAnswer } from '../http/answer.js';
import { Exchange } from '../http/exchange.js';
import type { GatewayMetrics } from '../metrics.js';
import type { GatewayLimits, Principal } from '../types.js';
import { FrameCache, LiveConnection, type ConnectionDependencies } from './connection.js';

interface SocketData {
  principal: Principal | undefined;
  connection?: LiveConnection;
}

/** Decides whether a browser's Origin may open a live connection (an empty origin: not a browser). */
export interface OriginCheck {
  allows(origin: string): boolean;
}

export interface LiveRouteOptions extends Omit<ConnectionDependencies, 'scheduleFlush'> {
  origins: OriginCheck;
}

const path = '/v1/live';

/**
 * `/v1/live` on uWebSockets.js (docs/websocket.md): the upgrade checks the Origin against the
 * allow-list (403) and the bearer token, from the Authorization header or, for browsers,
 * `?access_token=` (401); then each socket is a LiveConnection. Pushes from many views are
 * flushed together once per tick, each socket corked once.
 */
export function registerLiveRoute(app: TemplatedApp, options: LiveRouteOptions): void {
  const { guard, origins, metrics, limits, logger } = options;
  // An array, not a Set: see LiveConnection on long-lived Sets whose entries come and go.
  let due: LiveConnection[] = [];
  const flushAll = (): void => {
    // Taken first: a flush that throws must not leave connections marked with no flush to come.
    const connections = due;
    due = [];
    // No closure per connection: this runs for every socket with news, once per tick.
    const frames = new FrameCache();
    for (const connection of connections) {
      try {
        connection.flush(frames);
      } catch (error) {
        logger.error({ err: error }, 'live flush failed');
      }
    }
  };
  const dependencies: ConnectionDependencies = {
    ...options,
    scheduleFlush(connection) {
      if (due.length === 0) queueMicrotask(flushAll);
      due.push(connection);
    },
  };
  app.ws<SocketData>(path, {
    // uWebSockets.js drops a connection past its own limit without a close frame (1006): it is
    // only the ceiling; our smaller limit, checked in `message`, closes with a proper 1009.
    maxPayloadLength: uwsPayloadCeiling(limits.maxFrameBytes),
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    compression: uWS.DISABLED,
    upgrade: (res, req, context) => upgradeAuthorized(path, res, req, context, { guard, origins, metrics, logger }, (principal): SocketData => ({ principal })),
    open: (ws) =>
      guarded(logger, 'live open', () => {
        const data = ws.getUserData();
        data.connection = new LiveConnection(ws, data.principal, dependencies);
      }),
    message: (ws, message, isBinary) =>
      guarded(logger, 'live message', () => {
        if (message.byteLength > limits.maxFrameBytes) ws.end(1009, `messages are limited to ${limits.maxFrameBytes} bytes`);
        else ws.getUserData().connection?.receive(message, isBinary);
      }),
    drain: (ws) => guarded(logger, 'live drain', () => ws.getUserData().connection?.flush(new FrameCache())),
    // A closed connection still due for a flush is skipped by it.
    close: (ws) => guarded(logger, 'live close', () => ws.getUserData().connection?.closedBySocket()),
  });
}

/** The message size past which uWebSockets.js itself drops the connection. */
export function uwsPayloadCeiling(maxFrameBytes: number): number {
  return 4 * maxFrameBytes;
}

/** What an upgrade checks a WebSocket with: its Origin, its bearer token, and where it counts the request. */
export interface UpgradeChecks {
  guard: AccessGuard;
  origins: OriginCheck;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * Upgrades a WebSocket request once its Origin is allowed (else 403) and its bearer token, from
 * the Authorization header or, for browsers, `?access_token=`, verifies (else 401); the
 * socket's user data is made from the principal.
 */
export function upgradeAuthorized<D>(
  path: string,
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
  { guard, origins, metrics, logger }: UpgradeChecks,
  userData: (principal: Principal | undefined) => D,
): void {
  const started = process.hrtime.bigint();
  const key = req.getHeader('sec-websocket-key');
  const protocol = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const origin = req.getHeader('origin');
  const authorization = req.getHeader('authorization');
  const query = req.getQuery() ?? '';
  const exchange = new Exchange(res, (status) => metrics.observeRequest(path, 'GET', status, Number(process.hrtime.bigint() - started) / 1e9));
  const refuse = (error: unknown): void => {
    if (asFoldlineError(error).code === 'internal') logger.error({ err: error }, `${path} upgrade failed`);
    exchange.answer({ ...errorAnswer(error), close: true });
  };
  try {
    if (!origins.allows(origin)) throw new FoldlineError('forbidden_origin', `origin ${JSON.stringify(origin.slice(0, 200))} may not open ${path} connections`);
    const token = bearerToken(authorization) ?? new URLSearchParams(query).get('access_token') ?? undefined;
    // Verified synchronously, so the upgrade stays inside this handler: an upgrade finished
    // after an await must be corked, and uWebSockets.js's cork may then close the new socket
    // (uNetworking/uWebSockets#1928).
    res.upgrade(userData(guard.identify(token)), key, protocol, extensions, context);
    metrics.observeRequest(path, 'GET', 101, Number(process.hrtime.bigint() - started) / 1e9);
  } catch (error) {
    refuse(error);
  }
}

/** Runs a uWebSockets.js callback body: nothing may escape into the native layer. */
export function guarded(logger: Logger, what: string, body: () => void): void {
  try {
    body();
  } catch (error) {
    logger.error({ err: error }, `${what} failed`);
  }
}
