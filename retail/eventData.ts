import type { OrderLine, ProductCreated } from './events.js';

/** The `data` of each retail event type, as docs/retail.md "Events" defines it. Money is integer cents. */
export interface RetailEventData {
  'retail.product.created': ProductCreated;
  'retail.product.price-changed': { sku: string; price: number };
  'retail.product.category-changed': { sku: string; category: string };
  /** A null value removes the attribute. */
  'retail.product.attributes-changed': { sku: string; attributes: Record<string, string | null> };
  'retail.product.image-added': { sku: string; url: string; photographerId?: string };
  'retail.product.discontinued': { sku: string };
  'retail.customer.registered': { customerId: string; name: string };
  'retail.customer.product-viewed': { customerId: string; sku: string };
  'retail.cart.item-added': { customerId: string; sku: string; quantity: number };
  'retail.cart.item-removed': { customerId: string; sku: string; quantity: number };
  'retail.order.placed': { customerId: string; orderId: string; lines: OrderLine[] };
  'retail.salesperson.registered': { salespersonId: string; name: string; store: string };
  'retail.salesperson.sale-assisted': { salespersonId: string; orderId: string };
}

