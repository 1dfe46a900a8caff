import type { CloudEvent } from '../ledger/types.js';
import type { RetailEventData } from '../retail/catalogue.js';
import { recentlyViewedSize } from '../retail/projections.js';

/*
 * The floor for the fold benchmark: what a developer would write if events arrived in
 * order and exactly once. Plain mutable objects, the last write by arrival wins, counters
 * are numbers, no stamps, no histories, no replicas. It keeps the data the six views read
 * (the same entities and indexes as retail/projections.ts), so only CRDT metadata differs.
 */

interface PlainProduct {
  name: string | null;
  brand: string | null;
  description: string | null;
  category: string | null;
  price: number | null;
  attributes: Record<string, string>;
  images: Set<string>;
  discontinued: boolean;
  views: number;
}

interface PlainCustomer {
  cart: Map<string, number>;
  /** Latest view first. */
  recent: Array<{ sku: string; viewedAt: string }>;
}

interface PlainOrder {
  customerId: string;
  time: string;
  /** The price when the order arrived stands in for the as-of price that revenue needs. */
  lines: Array<{ sku: string; quantity: number; unitPrice: number | null }>;
}

interface PlainSalesperson {
  name: string | null;
  store: string | null;
  assisted: Set<string>;
}

export class PlainRetailFold {
  readonly products = new Map<string, PlainProduct>();
  readonly customers = new Map<string, PlainCustomer>();
  readonly orders = new Map<string, PlainOrder>();
  readonly salespeople = new Map<string, PlainSalesperson>();
  readonly categoryProducts = new Map<string, Set<string>>();
  readonly skuOrders = new Map<string, Set<string>>();
  readonly storeStaff = new Map<string, Set<string>>();

  fold(event: CloudEvent): void {
    switch (event.type) {
      case 'retail.product.created': {
        const data = event.data as unknown as RetailEventData['retail.product.created'];
        const product = this.product(data.sku);
        product.name = data.name;
        product.brand = data.brand;
        product.description = data.description ?? null;
        product.price = data.price;
        product.category = data.category;
        if (data.attributes) Object.assign(product.attributes, data.attributes);
        addTo(this.categoryProducts, data.category, data.sku);
        break;
      }
      case 'retail.product.price-changed': {
        const data = event.data as unknown as RetailEventData['retail.product.price-changed'];
        this.product(data.sku).price = data.price;
        break;
      }
      case 'retail.product.category-changed': {
        const data = event.data as unknown as RetailEventData['retail.product.category-changed'];
        this.product(data.sku).category = data.category;
        addTo(this.categoryProducts, data.category, data.sku);
        break;
      }
      case 'retail.product.attributes-changed': {
        const data = event.data as unknown as RetailEventData['retail.product.attributes-changed'];
        const attributes = this.product(data.sku).attributes;
        for (const key in data.attributes) {
          const value = data.attributes[key];
          if (value === null || value === undefined) delete attributes[key];
          else attributes[key] = value;
        }
        break;
      }
      case 'retail.product.image-added': {
        const data = event.data as unknown as RetailEventData['retail.product.image-added'];
        this.product(data.sku).images.add(data.url);
        break;
      }
      case 'retail.product.discontinued':
        this.product((event.data as unknown as RetailEventData['retail.product.discontinued']).sku).discontinued = true;
        break;
      case 'retail.customer.product-viewed': {
        const data = event.data as unknown as RetailEventData['retail.customer.product-viewed'];
        this.product(data.sku).views++;
        const recent = this.customer(data.customerId).recent;
        const seen = recent.findIndex((item) => item.sku === data.sku);
        if (seen >= 0) recent.splice(seen, 1);
        recent.unshift({ sku: data.sku, viewedAt: event.time });
        if (recent.length > recentlyViewedSize) recent.length = recentlyViewedSize;
        break;
      }
      case 'retail.cart.item-added': {
        const data = event.data as unknown as RetailEventData['retail.cart.item-added'];
        const cart = this.customer(data.customerId).cart;
        cart.set(data.sku, (cart.get(data.sku) ?? 0) + data.quantity);
        break;
      }
      case 'retail.cart.item-removed': {
        const data = event.data as unknown as RetailEventData['retail.cart.item-removed'];
        const cart = this.customer(data.customerId).cart;
        const left = (cart.get(data.sku) ?? 0) - data.quantity;
        if (left > 0) cart.set(data.sku, left);
        else cart.delete(data.sku);
        break;
      }
      case 'retail.order.placed': {
        const data = event.data as unknown as RetailEventData['retail.order.placed'];
        const lines = data.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: this.products.get(line.sku)?.price ?? null }));
        this.orders.set(data.orderId, { customerId: data.customerId, time: event.time, lines });
        for (const line of lines) addTo(this.skuOrders, line.sku, data.orderId);
        break;
      }
      case 'retail.salesperson.registered': {
        const data = event.data as unknown as RetailEventData['retail.salesperson.registered'];
        const salesperson = this.salesperson(data.salespersonId);
        salesperson.name = data.name;
        salesperson.store = data.store;
        addTo(this.storeStaff, data.store, data.salespersonId);
        break;
      }
      case 'retail.salesperson.sale-assisted': {
        const data = event.data as unknown as RetailEventData['retail.salesperson.sale-assisted'];
        this.salesperson(data.salespersonId).assisted.add(data.orderId);
        break;
      }
    }
  }

  /** Every entity's state, each index entry counted as one entity, as the CRDT fold counts them. */
  *entities(): Iterable<unknown> {
    for (const entities of [this.products, this.customers, this.orders, this.salespeople, this.categoryProducts, this.skuOrders, this.storeStaff]) {
      yield* (entities as Map<string, unknown>).values();
    }
  }

  private product(sku: string): PlainProduct {
    let product = this.products.get(sku);
    if (!product) {
      product = { name: null, brand: null, description: null, category: null, price: null, attributes: {}, images: new Set(), discontinued: false, views: 0 };
      this.products.set(sku, product);
    }
    return product;
  }

  private customer(customerId: string): PlainCustomer {
    let customer = this.customers.get(customerId);
    if (!customer) this.customers.set(customerId, (customer = { cart: new Map(), recent: [] }));
    return customer;
  }

  private salesperson(salespersonId: string): PlainSalesperson {
    let salesperson = this.salespeople.get(salespersonId);
    if (!salesperson) this.salespeople.set(salespersonId, (salesperson = { name: null, store: null, assisted: new Set() }));
    return salesperson;
  }
}

function addTo(index: Map<string, Set<string>>, key: string, member: string): void {
  let members = index.get(key);
  if (!members) index.set(key, (members = new Set()));
  members.add(member);
}

/** JSON text of a plain state, Sets as arrays and Maps as objects. */
export function plainJson(state: unknown): string {
  return JSON.stringify(state, (_key, value: unknown) =>
    value instanceof Set ? [...value] : value instanceof Map ? Object.fromEntries(value) : value,
  );
}
