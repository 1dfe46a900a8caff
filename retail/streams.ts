import type { CloudEvent, StreamRouter, StreamSpec } from '../ledger/types.js';

/** The three retail streams and, per event type, its stream and the data field that is its subject. */
export const retailEventTypes = {
  'retail.product.created': { stream: 'product', keyField: 'sku' },
  'retail.product.price-changed': { stream: 'product', keyField: 'sku' },
  'retail.product.category-changed': { stream: 'product', keyField: 'sku' },
  'retail.product.attributes-changed': { stream: 'product', keyField: 'sku' },
  'retail.product.image-added': { stream: 'product', keyField: 'sku' },
  'retail.product.discontinued': { stream: 'product', keyField: 'sku' },
  'retail.customer.registered': { stream: 'customer', keyField: 'customerId' },
  'retail.customer.product-viewed': { stream: 'customer', keyField: 'customerId' },
  'retail.cart.item-added': { stream: 'customer', keyField: 'customerId' },
  'retail.cart.item-removed': { stream: 'customer', keyField: 'customerId' },
  'retail.order.placed': { stream: 'customer', keyField: 'customerId' },
  'retail.salesperson.registered': { stream: 'salesperson', keyField: 'salespersonId' },
  'retail.salesperson.sale-assisted': { stream: 'salesperson', keyField: 'salespersonId' },
} as const satisfies Record<string, { stream: string; keyField: string }>;

export type RetailEventType = keyof typeof retailEventTypes;

export const retailStreamNames = ['customer', 'product', 'salesperson'] as const;

export function retailStreams(shards = 4): StreamSpec[] {
  return retailStreamNames.map((name) => ({ name, shards }));
}

export function isRetailEventType(type: string): type is RetailEventType {
  return Object.prototype.hasOwnProperty.call(retailEventTypes, type);
}

/** Routes a (validated) retail event to its stream; an unknown type routes nowhere. */
export const retailRouter: StreamRouter = (event: CloudEvent) =>
  isRetailEventType(event.type) ? retailEventTypes[event.type].stream : '';
