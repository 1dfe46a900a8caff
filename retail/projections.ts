import {
  counterAdd,
  dict,
  gsetAdd,
  parseTime,
  historyAdd,
  lwwMap,
  lwwMapSet,
  lwwWrite,
  mergeCounters,
  mergeGSets,
  mergeHistories,
  mergeLww,
  mergeLwwMaps,
  mergeTopK,
  pnCounter,
  topK,
  topKOffer,
  type GSet,
  type History,
  type Lww,
  type LwwMap,
  type PnCounter,
  type Stamp,
  type TopK,
} from '../crdt/index.js';
import type { CloudEvent } from '../ledger/types.js';
import type { EntityKeys, ProjectionDefinition } from '../projections/types.js';
import type { OrderLine, RetailEventData, RetailEventType } from './catalogue.js';

/*
 * The entity folds of the three retail streams. Each is a CRDT, so the views built on them
 * do not depend on the order events are folded in. Index projections (categoryProducts,
 * skuOrders, storeStaff) only grow: a view filters their members by current state.
 */

export interface ProductState {
  /** LWW over `created`: what only `created` sets. */
  created?: Lww<{ name: string; brand: string; description: string | null }>;
  /** Every price-bearing write (`created`, `price-changed`): current and as-of prices. */
  prices: History<number>;
  /** LWW over `created` and `category-changed`. */
  category?: Lww<string>;
  attributes: LwwMap<string>;
  images: GSet;
  discontinued: boolean;
}

export interface CustomerState {
  /** Per sku: added (positive) and removed (negative) quantities. */
  cart: Record<string, PnCounter>;
  /** The skus viewed last, scored by view time (ms). */
  recent: TopK;
}

export interface OrderState {
  placed?: Lww<{ customerId: string; lines: OrderLine[] }>;
}

export interface SalespersonState {
  registered?: Lww<{ name: string; store: string }>;
  /** Order ids of `sale-assisted` events. */
  assisted: GSet;
}

/** A grow-only set of member keys. */
export type IndexState = GSet;

/** The LWW stamp of an event: its time in ms, its id, its source. */
function stampOf(event: CloudEvent): Stamp {
  return { t: parseTime(event.time), id: event.id, src: event.source };
}

/** The data of an event of type `T` (validated: the catalogue's type for it). */
function dataOf<T extends RetailEventType>(event: CloudEvent): RetailEventData[T] {
  return event.data as unknown as RetailEventData[T];
}

export const recentlyViewedSize = 10;

export const productProjection: ProjectionDefinition<ProductState> = {
  name: 'product',
  streams: ['product'],
  keysOf: (event) => event.subject,
  initial: () => ({ prices: [], attributes: lwwMap(), images: [], discontinued: false }),
  fold(state, event) {
    switch (event.type) {
      case 'retail.product.created': {
        const s = stampOf(event);
        const data = dataOf<'retail.product.created'>(event);
        state.created = lwwWrite(state.created, { name: data.name, brand: data.brand, description: data.description ?? null }, s);
        historyAdd(state.prices, data.price, s);
        state.category = lwwWrite(state.category, data.category, s);
        if (data.attributes) setAttributes(state.attributes, data.attributes, s);
        break;
      }
      case 'retail.product.price-changed':
        historyAdd(state.prices, dataOf<'retail.product.price-changed'>(event).price, stampOf(event));
        break;
      case 'retail.product.category-changed':
        state.category = lwwWrite(state.category, dataOf<'retail.product.category-changed'>(event).category, stampOf(event));
        break;
      case 'retail.product.attributes-changed':
        setAttributes(state.attributes, dataOf<'retail.product.attributes-changed'>(event).attributes, stampOf(event));
        break;
      case 'retail.product.image-added':
        gsetAdd(state.images, dataOf<'retail.product.image-added'>(event).url);
        break;
      case 'retail.product.discontinued':
        state.discontinued = true;
        break;
    }
    return state;
  },
  merge: (a, b) => ({
    ...optional('created', mergeLww(a.created, b.created)),
    prices: mergeHistories(a.prices, b.prices),
    ...optional('category', mergeLww(a.category, b.category)),
    attributes: mergeLwwMaps(a.attributes, b.attributes),
    images: mergeGSets(a.images, b.images),
    discontinued: a.discontinued || b.discontinued,
  }),
};

/**
 * `product-viewed` counts per sku, one counter replica per ledger shard. Kept apart from the
 * product so that the most frequent event rewrites a few bytes, not the whole product.
 */
export const productViewsProjection: ProjectionDefinition<PnCounter> = {
  name: 'productViews',
  streams: ['customer'],
  types: ['retail.customer.product-viewed'],
  keysOf: (event) => dataOf<'retail.customer.product-viewed'>(event).sku,
  initial: () => pnCounter(),
  fold(state, _event, _key, context) {
    counterAdd(state, context.position, 1);
    return state;
  },
  merge: mergeCounters,
};

function setAttributes(attributes: LwwMap<string>, changes: Record<string, string | null>, s: Stamp): void {
  for (const key of Object.keys(changes)) lwwMapSet(attributes, key, changes[key]!, s);
}

export const customerProjection: ProjectionDefinition<CustomerState> = {
  name: 'customer',
  streams: ['customer'],
  types: ['retail.cart.item-added', 'retail.cart.item-removed', 'retail.customer.product-viewed'],
  keysOf: (event) => event.subject,
  initial: () => ({ cart: dict<PnCounter>(), recent: topK(recentlyViewedSize) }),
  fold(state, event, _key, context) {
    if (event.type === 'retail.customer.product-viewed') {
      topKOffer(state.recent, dataOf<'retail.customer.product-viewed'>(event).sku, parseTime(event.time));
    } else {
      const data = dataOf<'retail.cart.item-added' | 'retail.cart.item-removed'>(event);
      const counter = state.cart[data.sku] ?? (state.cart[data.sku] = pnCounter());
      counterAdd(counter, context.position, event.type === 'retail.cart.item-added' ? data.quantity : -data.quantity);
    }
    return state;
  },
  merge(a, b) {
    const cart = dict<PnCounter>();
    for (const sku of new Set([...Object.keys(a.cart), ...Object.keys(b.cart)])) {
      cart[sku] = mergeCounters(a.cart[sku] ?? pnCounter(), b.cart[sku] ?? pnCounter());
    }
    return { cart, recent: mergeTopK(a.recent, b.recent) };
  },
};

export const orderProjection: ProjectionDefinition<OrderState> = {
  name: 'order',
  streams: ['customer'],
  types: ['retail.order.placed'],
  keysOf: (event) => dataOf<'retail.order.placed'>(event).orderId,
  initial: () => ({}),
  fold(state, event) {
    const data = dataOf<'retail.order.placed'>(event);
    const lines = data.lines.map((line) => ({ sku: line.sku, quantity: line.quantity }));
    state.placed = lwwWrite(state.placed, { customerId: data.customerId, lines }, stampOf(event));
    return state;
  },
  merge: (a, b) => optional('placed', mergeLww(a.placed, b.placed)),
};

export const salespersonProjection: ProjectionDefinition<SalespersonState> = {
  name: 'salesperson',
  streams: ['salesperson'],
  keysOf: (event) => event.subject,
  initial: () => ({ assisted: [] }),
  fold(state, event) {
    if (event.type === 'retail.salesperson.registered') {
      const data = dataOf<'retail.salesperson.registered'>(event);
      state.registered = lwwWrite(state.registered, { name: data.name, store: data.store }, stampOf(event));
    } else {
      gsetAdd(state.assisted, dataOf<'retail.salesperson.sale-assisted'>(event).orderId);
    }
    return state;
  },
  merge: (a, b) => ({ ...optional('registered', mergeLww(a.registered, b.registered)), assisted: mergeGSets(a.assisted, b.assisted) }),
};

/**
 * A grow-only index from some keys of an event to one member of it, e.g. category → skus.
 * The member is the same under every key, so a fold reads it once. The runtime hands it
 * only events of `types`.
 */
function indexProjection(
  name: string,
  stream: string,
  types: readonly string[],
  keysOf: (event: CloudEvent) => EntityKeys,
  memberOf: (event: CloudEvent) => string,
): ProjectionDefinition<IndexState> {
  return {
    name,
    streams: [stream],
    types,
    keysOf,
    initial: () => [],
    fold(state, event) {
      gsetAdd(state, memberOf(event));
      return state;
    },
    merge: mergeGSets,
  };
}

export const categoryProductsProjection = indexProjection(
  'categoryProducts',
  'product',
  ['retail.product.created', 'retail.product.category-changed'],
  (event) => dataOf<'retail.product.created' | 'retail.product.category-changed'>(event).category,
  (event) => dataOf<'retail.product.created' | 'retail.product.category-changed'>(event).sku,
);

export const skuOrdersProjection = indexProjection(
  'skuOrders',
  'customer',
  ['retail.order.placed'],
  // Each sku once, however many lines name it.
  (event) => {
    const lines = dataOf<'retail.order.placed'>(event).lines;
    return lines.length === 1 ? lines[0]!.sku : [...new Set(lines.map((line) => line.sku))];
  },
  (event) => dataOf<'retail.order.placed'>(event).orderId,
);

export const storeStaffProjection = indexProjection(
  'storeStaff',
  'salesperson',
  ['retail.salesperson.registered'],
  (event) => dataOf<'retail.salesperson.registered'>(event).store,
  (event) => dataOf<'retail.salesperson.registered'>(event).salespersonId,
);

export const retailProjections: readonly ProjectionDefinition[] = [
  productProjection,
  productViewsProjection,
  customerProjection,
  orderProjection,
  salespersonProjection,
  categoryProductsProjection,
  skuOrdersProjection,
  storeStaffProjection,
];

/** `{[name]: value}` when the value is defined, else nothing: keeps absent registers absent. */
function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}
