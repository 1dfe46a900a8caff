import type { ViewExplainer } from '../../joiner/explain.js';
import { bearerToken, type AccessGuard } from '../auth/guard.js';
import type { GatewayLimits } from '../types.js';
import { jsonAnswer } from './answer.js';
import type { HttpRoute } from './routes.js';
import { parseReadQuery } from './viewQuery.js';

/**
 * `GET /v1/views/{view}/{key}/explain` (docs/http-api.md): what a value read, how far behind
 * each source is, and the events behind it, for the policy's operators. Listed before the
 * read route, whose key would otherwise take `…/explain`: a key holding a slash is
 * percent-encoded here.
 */
export function explainRoute(explainer: ViewExplainer, guard: AccessGuard, limits: GatewayLimits): HttpRoute {
  return {
    method: 'GET',
    pattern: '/v1/views/{view}/{key}/explain',
    async handler({ params, query, headers }) {
      guard.checkOperator(guard.identify(bearerToken(headers.get('authorization'))));
      return jsonAnswer(200, await explainer.explain(params.view!, params.key!, parseReadQuery(query, limits)));
    },
  };
}
