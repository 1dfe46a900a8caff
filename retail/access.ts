import type { CloudEvent } from '../ledger/types.js';
import { isRetailEventType, retailEventTypes } from './streams.js';

/*
 * Who may read and append what in the retail domain. The gateway consults it (it satisfies
 * the gateway's AccessPolicy by shape; retail knows nothing of the gateway): a customer sees
 * only their own cart and recently viewed and writes only their own customer-stream events;
 * catalog and product pages are public; staff and services may do everything.
 */

interface Principal {
  sub: string;
  role: 'customer' | 'staff' | 'service';
}

type AppendDecision = { allowed: true } | { allowed: false; index: number; path: string; message: string };

const publicViews: ReadonlySet<string> = new Set(['catalog', 'product']);
/** Views keyed by customerId that a customer may read for themselves. */
const ownViews: ReadonlySet<string> = new Set(['cart', 'recently-viewed']);

export const retailAccess = {
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
