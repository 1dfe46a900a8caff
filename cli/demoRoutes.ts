import { FoldlineError } from '../base/errors.js';
import { signToken } from '../gateway/auth/jwt.js';
import type { ExtraRoute } from '../gateway/types.js';
import { categoryTemplates, extraCategories, stores } from '../retail/trafficVocabulary.js';

/** A demo session lasts a working day. */
const demoTokenSeconds = 8 * 60 * 60;

/** The lists the storefront's navigation and leaderboard offer: the generator's categories and stores. */
export function demoListRoutes(): ExtraRoute[] {
  const categories = [...categoryTemplates.map((template) => template.category), ...extraCategories];
  return [
    { method: 'GET', pattern: '/v1/demo/categories', public: true, handle: async () => categories },
    { method: 'GET', pattern: '/v1/demo/stores', public: true, handle: async () => stores.map((store) => store.id) },
  ];
}

/**
 * `POST /v1/demo/sign-in {customerId}` → `{token, customerId}`: anyone may act as any
 * customer, which is the point of a demo and why it is on only with `--demo`. The token is a
 * customer token for 8 hours; without an auth secret there is nothing to sign (`token: null`).
 */
export function demoSignInRoute(secret: string | undefined): ExtraRoute {
  return {
    method: 'POST',
    pattern: '/v1/demo/sign-in',
    public: true,
    async handle({ body }) {
      const customerId = (body as { customerId?: unknown } | undefined)?.customerId;
      if (typeof customerId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(customerId)) {
        throw new FoldlineError('bad_customer', 'customerId must be 1 to 64 letters, digits, ".", "_" or "-"', { path: '/customerId' });
      }
      const token = secret === undefined ? null : await signToken(secret, { sub: customerId, role: 'customer' }, demoTokenSeconds);
      return { token, customerId };
    },
  };
}
