import { canonicalJson } from '../../crdt/index.js';
import type { CloudEvent } from '../../ledger/types.js';

/*
 * The six views computed straight from the words of docs/retail.md over a set of events,
 * with no CRDTs: distinct events sorted by (time, id, source) and replayed. The test oracle
 * the CRDT pipeline must agree with, byte for byte in canonical JSON.
 */

type Data = Record<string, any>;
const ms = (event: CloudEvent): number => Date.parse(event.time);
const str = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byStamp = (a: CloudEvent, b: CloudEvent): number => ms(a) - ms(b) || str(a.id, b.id) || str(a.source, b.source);

export class Oracle {
  private readonly events: CloudEvent[];

  constructor(events: CloudEvent[]) {
    const distinct = new Map(events.map((e) => [JSON.stringify([e.source, e.id]), e]));
    this.events = [...distinct.values()].sort(byStamp);
  }

  private of(type: string, where: (data: Data) => boolean = () => true): Array<CloudEvent & { data: Data }> {
    return this.events.filter((e) => e.type === `retail.${type}` && where(e.data)) as Array<CloudEvent & { data: Data }>;
  }

  private last<T>(list: T[]): T | undefined {
    return list[list.length - 1];
  }

  private priceEvents(sku: string) {
    return this.events.filter(
      (e) => (e.type === 'retail.product.created' || e.type === 'retail.product.price-changed') && e.data['sku'] === sku,
    );
  }

  private productState(sku: string) {
    const created = this.last(this.of('product.created', (d) => d['sku'] === sku));
    if (!created) return undefined;
    const price = this.last(this.priceEvents(sku))!.data['price'] as number;
    const category = this.last(this.of('product.created', (d) => d['sku'] === sku).concat(this.of('product.category-changed', (d) => d['sku'] === sku)).sort(byStamp))!
      .data['category'] as string;
    const attributes: Record<string, string> = {};
    const attributeEvents = this.events.filter(
      (e) => (e.type === 'retail.product.created' || e.type === 'retail.product.attributes-changed') && e.data['sku'] === sku,
    );
    const winners = new Map<string, string | null>();
    for (const e of attributeEvents) for (const [k, v] of Object.entries((e.data['attributes'] ?? {}) as Record<string, string | null>)) winners.set(k, v);
    for (const [k, v] of [...winners].sort(([a], [b]) => str(a, b))) if (v !== null) Object.defineProperty(attributes, k, { value: v, enumerable: true });
    const images = [...new Set(this.of('product.image-added', (d) => d['sku'] === sku).map((e) => e.data['url'] as string))].sort(str);
    return {
      sku,
      name: created.data['name'] as string,
      brand: created.data['brand'] as string,
      category,
      description: (created.data['description'] as string | undefined) ?? null,
      price,
      attributes,
      images,
      discontinued: this.of('product.discontinued', (d) => d['sku'] === sku).length > 0,
    };
  }

  /** orderId → the LWW order.placed's time and lines. */
  private orders(): Map<string, { time: number; lines: Array<{ sku: string; quantity: number }> }> {
    const orders = new Map();
    for (const e of this.of('order.placed')) orders.set(e.data['orderId'], { time: ms(e), lines: e.data['lines'] });
    return orders;
  }

  private asOfPrice(sku: string, time: number): number | undefined {
    return this.last(this.priceEvents(sku).filter((e) => ms(e) <= time))?.data['price'] as number | undefined;
  }

  product(sku: string) {
    const state = this.productState(sku);
    if (!state) return null;
    let unitsSold = 0;
    for (const order of this.orders().values()) for (const line of order.lines) if (line.sku === sku) unitsSold += line.quantity;
    return { ...state, views: this.of('customer.product-viewed', (d) => d['sku'] === sku).length, unitsSold };
  }

  catalog(category: string) {
    const skus = new Set(this.of('product.created').map((e) => e.data['sku'] as string));
    const products = [...skus]
      .map((sku) => this.productState(sku)!)
      .filter((p) => !p.discontinued && p.category === category)
      .map((p) => ({ sku: p.sku, name: p.name, brand: p.brand, price: p.price, image: p.images[0] ?? null }))
      .sort((a, b) => str(a.name, b.name) || str(a.sku, b.sku));
    return { category, products };
  }

  cart(customerId: string) {
    const quantities = new Map<string, number>();
    for (const e of this.events) {
      if (e.data['customerId'] !== customerId) continue;
      const sign = e.type === 'retail.cart.item-added' ? 1 : e.type === 'retail.cart.item-removed' ? -1 : 0;
      if (sign) quantities.set(e.data['sku'] as string, (quantities.get(e.data['sku'] as string) ?? 0) + sign * (e.data['quantity'] as number));
    }
    const lines = [...quantities]
      .filter(([, q]) => q > 0)
      .sort(([a], [b]) => str(a, b))
      .map(([sku, quantity]) => {
        const p = this.productState(sku);
        const unitPrice = p ? p.price : null;
        return { sku, quantity, name: p ? p.name : null, unitPrice, lineTotal: unitPrice === null ? null : quantity * unitPrice };
      });
    return {
      customerId,
      lines,
      itemCount: lines.reduce((n, l) => n + l.quantity, 0),
      total: lines.reduce((n, l) => n + (l.lineTotal ?? 0), 0),
    };
  }

  recentlyViewed(customerId: string) {
    const latest = new Map<string, number>();
    for (const e of this.of('customer.product-viewed', (d) => d['customerId'] === customerId)) {
      latest.set(e.data['sku'] as string, Math.max(ms(e), latest.get(e.data['sku'] as string) ?? -Infinity));
    }
    const items = [...latest]
      .sort(([a, ta], [b, tb]) => tb - ta || str(a, b))
      .slice(0, 10)
      .map(([sku, t]) => ({ sku, name: this.productState(sku)?.name ?? null, viewedAt: new Date(t).toISOString() }));
    return { customerId, items };
  }

  salesByShade(category: string) {
    const shades = new Map<string, { shade: string; units: number; revenue: number; unpricedUnits: number }>();
    for (const order of this.orders().values()) {
      for (const line of order.lines) {
        const p = this.productState(line.sku);
        const shade = p && p.category === category ? p.attributes['shade'] : undefined;
        if (shade === undefined) continue;
        const totals = shades.get(shade) ?? { shade, units: 0, revenue: 0, unpricedUnits: 0 };
        shades.set(shade, totals);
        totals.units += line.quantity;
        const price = this.asOfPrice(line.sku, order.time);
        if (price === undefined) totals.unpricedUnits += line.quantity;
        else totals.revenue += line.quantity * price;
      }
    }
    return { category, shades: [...shades.values()].sort((a, b) => str(a.shade, b.shade)) };
  }

  leaderboard(store: string) {
    const orders = this.orders();
    const people = new Map<string, { name: string; store: string }>();
    for (const e of this.of('salesperson.registered')) people.set(e.data['salespersonId'], { name: e.data['name'], store: e.data['store'] });
    const salespeople = [...people]
      .filter(([, p]) => p.store === store)
      .map(([salespersonId, p]) => {
        const assisted = new Set(this.of('salesperson.sale-assisted', (d) => d['salespersonId'] === salespersonId).map((e) => e.data['orderId'] as string));
        let count = 0;
        let units = 0;
        let revenue = 0;
        for (const orderId of assisted) {
          const order = orders.get(orderId);
          if (!order) continue;
          count++;
          for (const line of order.lines) {
            units += line.quantity;
            revenue += line.quantity * (this.asOfPrice(line.sku, order.time) ?? 0);
          }
        }
        return { salespersonId, name: p.name, orders: count, units, revenue };
      })
      .sort((a, b) => b.revenue - a.revenue || str(a.salespersonId, b.salespersonId));
    return { store, salespeople };
  }

  view(view: string, key: string): unknown {
    switch (view) {
      case 'product': return this.product(key);
      case 'catalog': return this.catalog(key);
      case 'cart': return this.cart(key);
      case 'recently-viewed': return this.recentlyViewed(key);
      case 'sales-by-shade': return this.salesByShade(key);
      case 'leaderboard': return this.leaderboard(key);
      default: throw new Error(`no view ${view}`);
    }
  }
}

/** The oracle's canonical JSON of every listed view key, keyed `view/key`. */
export function oracleViews(events: CloudEvent[], keys: ReadonlyArray<[string, string]>): Record<string, string> {
  const oracle = new Oracle(events);
  return Object.fromEntries(keys.map(([view, key]) => [`${view}/${key}`, canonicalJson(oracle.view(view, key))]));
}
