import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse } from 'uwebsockets';
import { FoldlineError } from '../../base/errors.js';
import type { GatewayMetrics } from '../metrics.js';
import { asFoldlineError, errorAnswer } from './answer.js';
import { readBody } from './body.js';
import { Exchange } from './exchange.js';
import type { Router } from './router.js';
import type { GatewayRequest, HttpRoute } from './routes.js';

export interface DispatchOptions {
  router: Router<HttpRoute>;
  metrics: GatewayMetrics;
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * The uWebSockets.js handler of every HTTP request: routes it, runs its handler and answers
 * with its result or its error as JSON. Nothing thrown escapes into uWebSockets.js.
 */
export function dispatcher({ router, metrics, logger, maxBodyBytes }: DispatchOptions): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const started = process.hrtime.bigint();
    const method = req.getCaseSensitiveMethod();
    const path = req.getUrl();
    let routeLabel = 'unmatched';
    // First, before anything asynchronous can happen: uWebSockets.js requires the abort handler.
    const exchange = new Exchange(res, (status) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest(routeLabel, method, status, seconds);
      logger.debug({ method, path, status, ms: seconds * 1000 }, 'http request');
    });
    const fail = (error: unknown): void => {
      // Errors the client caused or can act on are in the answer and the metrics; defects are logged.
      if (asFoldlineError(error).code === 'internal') logger.error({ err: error, method, path }, 'http request failed');
      exchange.answer(errorAnswer(error));
    };
    try {
      const match = router.match(method, path);
      if (match.kind === 'not_found') {
        exchange.answer(errorAnswer(new FoldlineError('not_found', `no resource at ${JSON.stringify(path.slice(0, 200))}`)));
        return;
      }
      if (match.kind === 'method_not_allowed') {
        const error = new FoldlineError('method_not_allowed', `${method} is not allowed here; use ${match.allowed.join(' or ')}`);
        exchange.answer({ ...errorAnswer(error), headers: { allow: match.allowed.join(', ') } });
        return;
      }
      const route = match.route;
      routeLabel = route.pattern;
      const headers = new Map<string, string>();
      req.forEach((name, value) => {
        if (!headers.has(name)) headers.set(name, value);
      });
      const request: GatewayRequest = {
        params: match.params,
        query: req.getQuery() ?? '',
        headers,
        body: bodyOf(route, res, exchange, headers, maxBodyBytes, metrics),
      };
      route.handler(request).then((answer) => exchange.answer(answer), fail);
    } catch (error) {
      fail(error);
    }
  };
}

function bodyOf(
  route: HttpRoute,
  res: HttpResponse,
  exchange: Exchange,
  headers: ReadonlyMap<string, string>,
  maxBodyBytes: number,
  metrics: GatewayMetrics,
): () => Promise<Buffer> {
  if (!route.readsBody) return () => Promise.resolve(Buffer.alloc(0));
  const body = readBody(res, exchange, headers.get('content-length'), maxBodyBytes);
  body.then((bytes) => metrics.observeBody(bytes.length), () => {});
  return () => body;
}
