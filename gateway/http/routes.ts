import type { Registry } from 'prom-client';
import type { Ledger } from '../../ledger/types.js';
import { encodeToken } from '../../ledger/token.js';
import type { GatewayMetrics } from '../metrics.js';
import type { GatewayLimits, GatewayViews, ValidateEvents } from '../types.js';
import { jsonAnswer, textAnswer, type Answer } from './answer.js';
import { decodeEvents, eventsMode, type RequestHeaders } from './cloudevents.js';
import type { Route } from './router.js';
import { parseReadQuery } from './viewQuery.js';

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
  validate: ValidateEvents;
  views: GatewayViews;
  limits: GatewayLimits;
  metrics: GatewayMetrics;
  registry: Registry;
}

/** The HTTP API of DESIGN.md "Interfaces users touch" (see docs/http-api.md). */
export function httpRoutes({ ledger, validate, views, limits, metrics, registry }: RouteDependencies): HttpRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/v1/events',
      readsBody: true,
      async handler({ headers, body }) {
        const mode = eventsMode(headers);
        const events = validate(decodeEvents(mode, headers, await body(), limits.maxBatch));
        const { receipts, head } = await ledger.append(events);
        metrics.countAppended(receipts);
        return jsonAnswer(202, { receipts, token: encodeToken(head) });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/views/{view}/{key...}',
      async handler({ params, query }) {
        const value = await views.read(params.view!, params.key!, parseReadQuery(query, limits));
        return jsonAnswer(200, { view: value.view, key: value.key, token: encodeToken(value.frontier), value: value.value });
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
      async handler() {
        return textAnswer(200, await registry.metrics(), registry.contentType);
      },
    },
  ];
}
