import { FoldlineError } from '../base/errors.js';
import type { ExtraRoute } from '../gateway/types.js';
import type { CloudEvent } from '../ledger/types.js';
import { generateEvents } from './generator.js';
import { categoryTemplates, extraCategories, stores } from './trafficVocabulary.js';

/** A demo session lasts a working day. */
const demoTokenSeconds = 8 * 60 * 60;

/** Events of generated history a new demo data directory starts with. */
export const demoHistoryEvents = 20_000;

/** The demo's history: seed 1, whose customers include c-1, c-2 and c-3. */
export function demoHistory(): Iterable<CloudEvent> {
  return generateEvents({ seed: 1, events: demoHistoryEvents });
}

/** The lists the storefront's navigation and leaderboard offer: the generator's categories and stores. */
export const storefrontListRoutes: readonly ExtraRoute[] = [
  {
    method: 'GET',
    pattern: '/v1/demo/categories',
    public: true,
    handle: async () => [...categoryTemplates.map((template) => template.category), ...extraCategories],
  },
  { method: 'GET', pattern: '/v1/demo/stores', public: true, handle: async () => stores.map((store) => store.id) },
];

/**
 * `POST /v1/demo/sign-in {customerId}` → `{token, customerId}`: anyone may act as any
 * customer, which is the point of a demo and why only `--demo` offers it. The token is a
 * customer token for 8 hours; without auth there is nothing to sign (`token: null`).
 */
export const demoSignInRoute: ExtraRoute = {
  method: 'POST',
  pattern: '/v1/demo/sign-in',
  public: true,
  async handle({ body, signToken }) {
    const customerId = (body as { customerId?: unknown } | undefined)?.customerId;
    if (typeof customerId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(customerId)) {
      throw new FoldlineError('bad_customer', 'customerId must be 1 to 64 letters, digits, ".", "_" or "-"', { path: '/customerId' });
    }
    const token = signToken === undefined ? null : await signToken({ sub: customerId, role: 'customer' }, demoTokenSeconds);
    return { token, customerId };
  },
};
