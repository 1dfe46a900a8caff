import type { AccessPolicy, AppendDecision, Principal } from '../gateway/types.js';
import type { CloudEvent } from '../ledger/types.js';
import { isRetailEventType, retailEventTypes } from './catalogue.js';

/*
 * Who may read and append what in the retail domain: a customer sees only their own cart and
 * recently viewed and writes only their own customer-stream events; catalog and product
 * pages are public; staff and services may do everything, and operate the service.
 */

export const retailRoles = ['customer', 'staff', 'service'] as const;

const publicViews: ReadonlySet<string> = new Set(['catalog', 'product']);
/** Views keyed by customerId that a customer may read for themselves. */
const ownViews: ReadonlySet<string> = new Set(['cart', 'cart-counts', 'recently-viewed']);

export const retailAccess: AccessPolicy = {
  roles: retailRoles,

  isOperator(principal: Principal): boolean {
    return principal.role !== 'customer';
  },

  isPublicView(view: string): boolean {
    return publicViews.has(view);
  },

  canRead(principal: Principal, view: string, key: string): boolean {
    if (principal.role !== 'customer') return true;
    return publicViews.has(view) || (ownViews.has(view) && key === principal.sub);
  },

  canAppend(principal: Principal, events: readonly CloudEvent[]): AppendDecision {
    if (principal.role !== 'customer') return { allowed: true };
    for (const [index, event] of events.entries()) {
      // Validation ran first, so the type is a retail one and the subject is the customerId.
      if (!isRetailEventType(event.type) || retailEventTypes[event.type].stream !== 'customer') {
        return { allowed: false, index, path: '/type', message: `a customer may not append ${event.type} events` };
      }
      if (event.subject !== principal.sub) {
        return { allowed: false, index, path: '/subject', message: 'a customer may append only events about themselves' };
      }
    }
    return { allowed: true };
  },
};
