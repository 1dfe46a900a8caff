import type { Registry } from 'prom-client';
import { FoldlineError } from '../../base/errors.js';
import { encodeToken } from '../../ledger/token.js';
import type { Ledger } from '../../ledger/types.js';
import { parseAwaitTargets, type Appender } from '../append.js';
import { bearerToken, type AccessGuard } from '../auth/guard.js';
import type { ExtraRoute, GatewayLimits, GatewayViews, Principal } from '../types.js';
import { jsonAnswer, jsonType, textAnswer, type Answer } from './answer.js';
import { decodeEvents, eventsMode, parseJson, type RequestHeaders } from './cloudevents.js';
import type { Route } from './router.js';
import { withTraceparent } from './traceparent.js';
import { parseReadQuery, parseWait } from './viewQuery.js';

/** A request as handlers see it: everything copied out of uWebSockets.js already. */
export interface GatewayRequest {
  params: Readonly<Record<string, string>>;
  /** The raw query string, without `?`. */
  query: string;
  /** Lower-cased names; the first value of a repeated header. */
  headers: RequestHeaders;
  /** The body, being read since the request arrived (routes with `readsBody` only). */
  body(): Promise<Buffer>;
}

export interface HttpRoute extends Route {
  handler(request: GatewayRequest): Promise<Answer>;
  /** Start reading the body as the request arrives. */
  readsBody?: boolean;
}

export interface RouteDependencies {
  ledger: Ledger;
  views: GatewayViews;
  appender: Appender;
  guard: AccessGuard;
  limits: GatewayLimits;
  registry: Registry;
  moreMetrics: () => Promise<string>;
}

/** The HTTP API (docs/http-api.md). */
export function httpRoutes({ ledger, views, appender, guard, limits, registry, moreMetrics }: RouteDependencies): HttpRoute[] {
  const principalOf = (headers: RequestHeaders): Principal | undefined => guard.identify(bearerToken(headers.get('authorization')));
  return [
    {
      method: 'POST',
      pattern: '/v1/events',
      readsBody: true,
      async handler({ headers, query, body }) {
        const principal = principalOf(headers);
        const mode = eventsMode(headers);
        const params = new URLSearchParams(query);
        const awaited = parseAwaitTargets(params.getAll('await'));
        const wait = parseWait(params.get('wait'));
        // Not kept in a variable: the events would stay alive until the append is durable.
        const appended = await appender.append(withTraceparent(decodeEvents(mode, headers, await body(), limits.maxBatch), headers.get('traceparent')), principal, awaited, wait);
        return jsonAnswer(awaited.length > 0 ? 200 : 202, appended);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/views/{view}/{key...}',
      async handler({ params, query, headers }) {
        guard.checkRead(principalOf(headers), params.view!, params.key!);
        const value = await views.read(params.view!, params.key!, parseReadQuery(query, limits));
        // The value's JSON text as the view engine serialized it: not serialized again.
        const body = `{"view":${JSON.stringify(value.view)},"key":${JSON.stringify(value.key)},"token":${JSON.stringify(encodeToken(value.frontier))},"value":${value.json}}`;
        return textAnswer(200, body, jsonType);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/live',
      async handler() {
        throw new FoldlineError('upgrade_required', '/v1/live is a WebSocket: send an upgrade request');
      },
    },
    {
      method: 'GET',
      pattern: '/v1/health',
      async handler() {
        return jsonAnswer(200, { status: 'ok', ledger: encodeToken(await ledger.head()), views: encodeToken(views.frontier()) });
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      async handler({ headers }) {
        guard.checkOperator(principalOf(headers));
        const [own, more] = await Promise.all([registry.metrics(), moreMetrics()]);
        return textAnswer(200, own + more, registry.contentType);
      },
    },
  ];
}

/** The embedding program's JSON routes; those not `public` need a token when auth is on. */
export function extraHttpRoutes(routes: readonly ExtraRoute[], guard: AccessGuard): HttpRoute[] {
  return routes.map((route) => ({
    method: route.method,
    pattern: route.pattern,
    readsBody: route.method === 'POST',
    async handler({ params, headers, body }) {
      const principal = guard.identify(bearerToken(headers.get('authorization')));
      if (!route.public) guard.checkAuthenticated(principal);
      const bytes = await body();
      const json = route.method === 'POST' && bytes.length > 0 ? parseJson(bytes) : undefined;
      return jsonAnswer(200, await route.handle({ params, body: json, principal, signToken: guard.signToken }));
    },
  }));
}
