import uWS from 'uwebsockets';
import { FoldlineError } from '../base/errors.js';
import { Appender } from './append.js';
import { AccessGuard } from './auth/guard.js';
import { checkListenAddress } from './auth/listenAddress.js';
import { defaultOrigins, OriginAllowList } from './auth/origins.js';
import { dispatcher } from './http/dispatch.js';
import { Router } from './http/router.js';
import { extraHttpRoutes, httpRoutes } from './http/routes.js';
import { staticRoutes } from './http/staticRoutes.js';
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
    ...httpRoutes({ ledger, views, appender, guard, limits, registry, moreMetrics: options.moreMetrics ?? (async () => '') }),
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
  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(options.host, options.port, (socket) => {
      if (socket) resolve(socket);
      else reject(new FoldlineError('listen_failed', `cannot listen on ${options.host}:${options.port}`));
    });
  });
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
