import type { SubscriptionAdmin } from '../../subscriptions/subscriptions.js';
import { bearerToken, type AccessGuard } from '../auth/guard.js';
import { jsonAnswer } from './answer.js';
import { parseJson } from './cloudevents.js';
import type { GatewayRequest, HttpRoute } from './routes.js';

/** `/v1/subscriptions` (docs/http-api.md): webhook subscriptions, for the policy's operators only. */
export function subscriptionRoutes(subscriptions: SubscriptionAdmin, guard: AccessGuard): HttpRoute[] {
  const operator = ({ headers }: GatewayRequest): void => guard.checkOperator(guard.identify(bearerToken(headers.get('authorization'))));
  return [
    {
      method: 'POST',
      pattern: '/v1/subscriptions',
      readsBody: true,
      async handler(request) {
        operator(request);
        const bytes = await request.body();
        return jsonAnswer(201, await subscriptions.add(bytes.length > 0 ? parseJson(bytes) : undefined));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/subscriptions',
      async handler(request) {
        operator(request);
        return jsonAnswer(200, { subscriptions: await subscriptions.list() });
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/subscriptions/{name}',
      async handler(request) {
        operator(request);
        await subscriptions.remove(request.params.name!);
        return jsonAnswer(200, { name: request.params.name, removed: true });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/subscriptions/{name}/dead-letters',
      async handler(request) {
        operator(request);
        return jsonAnswer(200, { deadLetters: await subscriptions.deadLetters(request.params.name!) });
      },
    },
    {
      method: 'POST',
      pattern: '/v1/subscriptions/{name}/replay-dead',
      async handler(request) {
        operator(request);
        return jsonAnswer(200, await subscriptions.replayDead(request.params.name!));
      },
    },
  ];
}
