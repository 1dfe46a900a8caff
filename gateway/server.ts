import uWS from 'uwebsockets';
import { FoldlineError } from '../ledger/errors.js';
import { dispatcher } from './http/dispatch.js';
import { Router } from './http/router.js';
import { httpRoutes } from './http/routes.js';
import { GatewayMetrics } from './metrics.js';
import { defaultLimits, type Gateway, type GatewayOptions } from './types.js';

/**
 * Starts the HTTP gateway on uWebSockets.js: append and read over HTTP, health and metrics
 * (docs/http-api.md). Everything domain-specific — event validation, the views — is injected.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const limits = { ...defaultLimits, ...options.limits };
  const { ledger, validate, views, logger, registry } = options;
  const metrics = new GatewayMetrics(registry);
  const router = new Router(httpRoutes({ ledger, validate, views, limits, metrics, registry }));
  const app = uWS.App();
  app.any('/*', dispatcher({ router, metrics, logger, maxBodyBytes: limits.maxBodyBytes }));
  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(options.host, options.port, (socket) => {
      if (socket) resolve(socket);
      else reject(new FoldlineError('listen_failed', `cannot listen on ${options.host}:${options.port}`, { status: 500 }));
    });
  });
  const port = uWS.us_socket_local_port(listenSocket);
  logger.info({ host: options.host, port }, 'gateway listening');
  let closed = false;
  return {
    port,
    async close() {
      if (closed) return;
      closed = true;
      uWS.us_listen_socket_close(listenSocket);
      // Ends open connections too (keep-alive ones would otherwise hold the process).
      app.close();
      logger.info({ port }, 'gateway closed');
    },
  };
}
