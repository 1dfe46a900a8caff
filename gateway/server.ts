import { createServer } from 'node:net';
import uWS from 'uwebsockets';
import { FoldlineError } from '../base/errors.js';
import { Appender } from './append.js';
import { AccessGuard } from './auth/guard.js';
import { checkListenAddress } from './auth/listenAddress.js';
import { defaultOrigins, OriginAllowList } from './auth/origins.js';
import { changesRoute } from './http/changesRoute.js';
import { dispatcher } from './http/dispatch.js';
import { explainRoute } from './http/explainRoute.js';
import { Router } from './http/router.js';
import { extraHttpRoutes, httpRoutes } from './http/routes.js';
import { staticRoutes } from './http/staticRoutes.js';
import { subscriptionRoutes } from './http/subscriptionRoutes.js';
import { registerLiveRoute } from './live/liveRoute.js';
import { GatewayMetrics } from './metrics.js';
import { defaultLimits, type Gateway, type GatewayOptions } from './types.js';

/**
 * Starts the gateway on uWebSockets.js: append and read over HTTP, health and metrics
 * (docs/http-api.md), live views and appends over the `/v1/live` WebSocket
 * (docs/websocket.md), bearer-token auth, the injected extra routes and static assets.
 * Everything domain-specific — event validation, the views, the access rules — is injected.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  checkListenAddress(options.host, options.auth !== undefined);
  const limits = { ...defaultLimits, ...options.limits };
  const { ledger, validate, views, logger, registry } = options;
  const metrics = new GatewayMetrics(registry);
  const guard = new AccessGuard(options.auth);
  const appender = new Appender({ ledger, validate, views, guard, metrics, limits });
  const router = new Router([
    ...(options.explainer ? [explainRoute(options.explainer, guard, limits)] : []),
    ...httpRoutes({ ledger, views, appender, guard, limits, registry, moreMetrics: options.moreMetrics ?? (async () => '') }),
    ...(options.subscriptions ? subscriptionRoutes(options.subscriptions, guard) : []),
    ...(options.changes ? [changesRoute(options.changes, guard)] : []),
    ...extraHttpRoutes(options.extraRoutes ?? [], guard),
    ...staticRoutes(options.assets ?? new Map()),
  ]);
  const app = uWS.App();
  // The default allow-list needs the port, known once listening, before any upgrade.
  let allowedOrigins = new OriginAllowList([]);
  registerLiveRoute(app, {
    views,
    appender,
    guard,
    metrics,
    limits,
    logger: logger.child({ part: 'live' }),
    origins: { allows: (origin) => allowedOrigins.allows(origin) },
  });
  app.any('/*', dispatcher({ router, metrics, logger, maxBodyBytes: limits.maxBodyBytes }));
  let listenSocket: uWS.us_listen_socket;
  try {
    listenSocket = await listenExclusively(app, options.host, options.port);
  } catch (error) {
    app.close();
    throw error;
  }
  const port = uWS.us_socket_local_port(listenSocket);
  allowedOrigins = new OriginAllowList(options.allowedOrigins ?? defaultOrigins(options.host, port));
  logger.info({ host: options.host, port, auth: guard.enabled }, 'gateway listening');
  let closed = false;
  return {
    port,
    async close() {
      if (closed) return;
      closed = true;
      uWS.us_listen_socket_close(listenSocket);
      // Ends open connections too (keep-alive ones and WebSockets would otherwise hold the process).
      app.close();
      logger.info({ port }, 'gateway closed');
    },
  };
}

/**
 * The native listen takes (host, port, options, callback), but index.d.ts declares options only
 * without a host; the flag is exported by the addon, not as the declared ListenOptions enum.
 */
type ListenWithOptions = (host: string, port: number, options: number, callback: (socket: uWS.us_listen_socket | false) => void) => uWS.TemplatedApp;
const exclusivePort = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;

/**
 * Listens without SO_REUSEPORT, uWebSockets.js's default: with it a second server on a busy
 * port starts without a word and the kernel splits connections between the two.
 */
async function listenExclusively(app: uWS.TemplatedApp, host: string, port: number): Promise<uWS.us_listen_socket> {
  const socket = await new Promise<uWS.us_listen_socket | false>((resolve) => {
    (app.listen as unknown as ListenWithOptions).call(app, host, port, exclusivePort, resolve);
  });
  if (socket) return socket;
  // uSockets reports no errno: a Node listen on the same address names the cause.
  throw listenError(host, port, await listenErrorCode(host, port));
}

/**
 * Refuses an address the gateway could not listen on (a port in use, say), for a caller to
 * check before it opens anything; the listen itself still refuses what appears meanwhile.
 */
export async function checkCanListen(host: string, port: number): Promise<void> {
  const cause = port === 0 ? undefined : await listenErrorCode(host, port);
  if (cause !== undefined) throw listenError(host, port, cause);
}

function listenError(host: string, port: number, cause: string | undefined): FoldlineError {
  if (cause === 'EADDRINUSE') return new FoldlineError('port_in_use', `port ${port} is in use`);
  return new FoldlineError('listen_failed', `cannot listen on ${host}:${port}${cause === undefined ? '' : ` (${cause})`}`);
}

/** The error code of listening on `host:port` now; undefined if it would succeed. */
function listenErrorCode(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}
