import { FoldlineError } from '../base/errors.js';
import { compareStrings, counterValue, formatTime, historyAsOf, historyLatest, lwwMapValues } from '../crdt/index.js';
import type { Lookup, ViewDefinition } from '../joiner/types.js';
import type { ProjectionDefinition } from '../projections/types.js';
import { limits, type OrderLine } from './catalogue.js';
import {
  categoryProductsProjection,
  customerProjection,
  orderProjection,
  productProjection,
  productViewsProjection,
  salespersonProjection,
  skuOrdersProjection,
  storeStaffProjection,
  type IndexState,
  type ProductState,
} from './projections.js';

/*
 * The six retail views of docs/retail.md, each a pure function of entity states. Sorting uses
 * plain string order; money is integer cents.
 */

/**
 * Every view key is an entity id (customer, sku, category, store), which events give as 1 to
 * `limits.text` characters: a longer one can name nothing, and is refused before it is read.
 */
function checkEntityKey(key: string): void {
  // `length` counts UTF-16 units, at least the characters: count those only when it is over.
  if (key.length === 0 || (key.length > limits.text && [...key].length > limits.text)) {
    throw new FoldlineError('bad_key', `a view key is an id of 1 to ${limits.text} characters`, { path: '/key' });
  }
}

const productState = (lookup: Lookup, sku: string): ProductState | undefined => lookup.get(productProjection, sku);
const indexMembers = (lookup: Lookup, index: ProjectionDefinition<IndexState>, key: string): IndexState => lookup.get(index, key) ?? [];

/** A product that a `created` has been folded for. */
type CreatedProduct = ProductState & Required<Pick<ProductState, 'created' | 'category'>>;
const isCreated = (state: ProductState | undefined): state is CreatedProduct => state?.created !== undefined;

const currentPrice = (state: CreatedProduct): number => historyLatest(state.prices)!.v;

/** An order that exists, with its time (ms) and lines. */
interface PlacedOrder {
  time: number;
  lines: OrderLine[];
}
function placedOrder(lookup: Lookup, orderId: string): PlacedOrder | undefined {
  const placed = lookup.get(orderProjection, orderId)?.placed;
  return placed && { time: placed.s.t, lines: placed.v.lines };
}

/** The LWW price among price-bearing events at or before `time`, if any. */
function priceAsOf(lookup: Lookup, sku: string, time: number): number | undefined {
  const prices = productState(lookup, sku)?.prices;
  return prices && historyAsOf(prices, time)?.v;
}

export const productView: ViewDefinition = {
  name: 'product',
  checkKey: checkEntityKey,
  keysFrom: [productProjection],
  compute(sku, lookup) {
    const state = productState(lookup, sku);
    if (!isCreated(state)) return null;
    let unitsSold = 0;
    for (const orderId of indexMembers(lookup, skuOrdersProjection, sku)) {
      for (const line of placedOrder(lookup, orderId)?.lines ?? []) if (line.sku === sku) unitsSold += line.quantity;
    }
    return {
      sku,
      name: state.created.v.name,
      brand: state.created.v.brand,
      category: state.category.v,
      description: state.created.v.description,
      price: currentPrice(state),
      attributes: lwwMapValues(state.attributes),
      images: state.images,
      discontinued: state.discontinued,
      views: counterValue(lookup.get(productViewsProjection, sku) ?? {}),
      unitsSold,
    };
  },
};

export const catalogView: ViewDefinition = {
  name: 'catalog',
  checkKey: checkEntityKey,
  keysFrom: [categoryProductsProjection],
  compute(category, lookup) {
    const products = [];
    for (const sku of indexMembers(lookup, categoryProductsProjection, category)) {
      const state = productState(lookup, sku);
      if (!isCreated(state) || state.discontinued || state.category.v !== category) continue;
      products.push({ sku, name: state.created.v.name, brand: state.created.v.brand, price: currentPrice(state), image: state.images[0] ?? null });
    }
    products.sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.sku, b.sku));
    return { category, products };
  },
};

export const cartView: ViewDefinition = {
  name: 'cart',
  checkKey: checkEntityKey,
  keysFrom: [customerProjection],
  compute(customerId, lookup) {
    const cart = lookup.get(customerProjection, customerId)?.cart ?? {};
    const lines = [];
    let itemCount = 0;
    let total = 0;
    for (const sku of Object.keys(cart).sort(compareStrings)) {
      const quantity = Math.max(0, counterValue(cart[sku]!));
      if (quantity === 0) continue;
      const state = productState(lookup, sku);
      const unitPrice = isCreated(state) ? currentPrice(state) : null;
      const lineTotal = unitPrice === null ? null : quantity * unitPrice;
      lines.push({ sku, quantity, name: isCreated(state) ? state.created.v.name : null, unitPrice, lineTotal });
      itemCount += quantity;
      total += lineTotal ?? 0;
    }
    return { customerId, lines, itemCount, total };
  },
};

export const recentlyViewedView: ViewDefinition = {
  name: 'recently-viewed',
  checkKey: checkEntityKey,
  keysFrom: [customerProjection],
  compute(customerId, lookup) {
    const recent = lookup.get(customerProjection, customerId)?.recent.items ?? [];
    const items = recent.map(([sku, viewedAt]) => {
      const state = productState(lookup, sku);
      return { sku, name: isCreated(state) ? state.created.v.name : null, viewedAt: formatTime(viewedAt) };
    });
    return { customerId, items };
  },
};

export const salesByShadeView: ViewDefinition = {
  name: 'sales-by-shade',
  checkKey: checkEntityKey,
  keysFrom: [categoryProductsProjection],
  compute(category, lookup) {
    const shades = new Map<string, { shade: string; units: number; revenue: number; unpricedUnits: number }>();
    for (const sku of indexMembers(lookup, categoryProductsProjection, category)) {
      const state = productState(lookup, sku);
      if (!isCreated(state) || state.category.v !== category) continue;
      const shade = lwwMapValues(state.attributes)['shade'];
      if (shade === undefined) continue;
      for (const orderId of indexMembers(lookup, skuOrdersProjection, sku)) {
        const order = placedOrder(lookup, orderId);
        for (const line of order?.lines ?? []) {
          if (line.sku !== sku) continue;
          const totals = shades.get(shade) ?? { shade, units: 0, revenue: 0, unpricedUnits: 0 };
          shades.set(shade, totals);
          totals.units += line.quantity;
          const price = historyAsOf(state.prices, order!.time)?.v;
          if (price === undefined) totals.unpricedUnits += line.quantity;
          else totals.revenue += line.quantity * price;
        }
      }
    }
    return { category, shades: [...shades.values()].sort((a, b) => compareStrings(a.shade, b.shade)) };
  },
};

export const leaderboardView: ViewDefinition = {
  name: 'leaderboard',
  checkKey: checkEntityKey,
  keysFrom: [storeStaffProjection],
  compute(store, lookup) {
    const salespeople = [];
    for (const salespersonId of indexMembers(lookup, storeStaffProjection, store)) {
      const state = lookup.get(salespersonProjection, salespersonId);
      const registered = state?.registered;
      if (!registered || registered.v.store !== store) continue;
      let orders = 0;
      let units = 0;
      let revenue = 0;
      for (const orderId of state.assisted) {
        const order = placedOrder(lookup, orderId);
        if (!order) continue;
        orders++;
        for (const line of order.lines) {
          units += line.quantity;
          revenue += line.quantity * (priceAsOf(lookup, line.sku, order.time) ?? 0);
        }
      }
      salespeople.push({ salespersonId, name: registered.v.name, orders, units, revenue });
    }
    salespeople.sort((a, b) => b.revenue - a.revenue || compareStrings(a.salespersonId, b.salespersonId));
    return { store, salespeople };
  },
};

export const retailViews: readonly ViewDefinition[] = [productView, catalogView, cartView, recentlyViewedView, salesByShadeView, leaderboardView];
