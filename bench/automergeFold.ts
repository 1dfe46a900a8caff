import * as Automerge from '@automerge/automerge';
import type { LedgerRecord } from '../ledger/types.js';
import type { RetailEventData } from '../retail/catalogue.js';
import { keyList } from '../projections/entityKeys.js';
import { ProjectionRouting } from '../projections/routing.js';
import { recentlyViewedSize, retailProjections } from '../retail/projections.js';

/*
 * The obvious alternative for the fold benchmark: one Automerge document per entity (the
 * same entities as retail/projections.ts), one Automerge.change per event and entity.
 * Automerge orders concurrent writes itself, so the fields carry no stamps; counters are
 * Automerge counters, sets are maps to `true`.
 */

type Fields = Record<string, unknown>;
type Updater = (doc: Fields, record: LedgerRecord, key: string) => void;

export class AutomergeRetailFold {
  readonly docs = new Map<string, Automerge.Doc<Fields>>();

  private readonly routing = new ProjectionRouting(retailProjections);

  fold(record: LedgerRecord): void {
    for (const definition of this.routing.projectionsFor(record.stream, record.event.type)) {
      const update = updaters[definition.name]!;
      for (const key of keyList(definition.keysOf(record.event))) {
        const id = `${definition.name}/${key}`;
        const doc = this.docs.get(id) ?? Automerge.from<Fields>(initial(definition.name));
        this.docs.set(id, Automerge.change(doc, (d) => update(d, record, key)));
      }
    }
  }
}

function initial(namespace: string): Fields {
  switch (namespace) {
    case 'product':
      return { attributes: {}, images: {}, discontinued: false };
    case 'productViews':
      return { views: new Automerge.Counter(0) };
    case 'customer':
      return { cart: {}, recent: {} };
    case 'salesperson':
      return { assisted: {} };
    default:
      return {};
  }
}

const asSet = (doc: Fields, field: string): Record<string, true> => doc[field] as Record<string, true>;

const updaters: Record<string, Updater> = {
  product(doc, { event }) {
    switch (event.type) {
      case 'retail.product.created': {
        const data = event.data as unknown as RetailEventData['retail.product.created'];
        doc.name = data.name;
        doc.brand = data.brand;
        doc.description = data.description ?? null;
        doc.price = data.price;
        doc.category = data.category;
        Object.assign(doc.attributes as Fields, data.attributes ?? {});
        break;
      }
      case 'retail.product.price-changed':
        doc.price = (event.data as unknown as RetailEventData['retail.product.price-changed']).price;
        break;
      case 'retail.product.category-changed':
        doc.category = (event.data as unknown as RetailEventData['retail.product.category-changed']).category;
        break;
      case 'retail.product.attributes-changed': {
        const changes = (event.data as unknown as RetailEventData['retail.product.attributes-changed']).attributes;
        const attributes = doc.attributes as Fields;
        for (const key of Object.keys(changes)) {
          if (changes[key] === null) delete attributes[key];
          else attributes[key] = changes[key];
        }
        break;
      }
      case 'retail.product.image-added':
        asSet(doc, 'images')[(event.data as unknown as RetailEventData['retail.product.image-added']).url] = true;
        break;
      case 'retail.product.discontinued':
        doc.discontinued = true;
        break;
    }
  },
  productViews(doc) {
    (doc.views as Automerge.Counter).increment(1);
  },
  customer(doc, { event }) {
    const data = event.data as unknown as RetailEventData['retail.cart.item-added'];
    if (event.type === 'retail.customer.product-viewed') {
      // sku → latest view time; the oldest is dropped past the limit.
      const recent = doc.recent as Record<string, number>;
      const time = Date.parse(event.time);
      if ((recent[data.sku] ?? -Infinity) < time) recent[data.sku] = time;
      const skus = Object.keys(recent);
      if (skus.length > recentlyViewedSize) delete recent[skus.reduce((a, b) => (recent[a]! <= recent[b]! ? a : b))];
      return;
    }
    const cart = doc.cart as Record<string, Automerge.Counter>;
    if (!cart[data.sku]) cart[data.sku] = new Automerge.Counter(0);
    cart[data.sku]!.increment(event.type === 'retail.cart.item-added' ? data.quantity : -data.quantity);
  },
  order(doc, { event }) {
    const data = event.data as unknown as RetailEventData['retail.order.placed'];
    doc.customerId = data.customerId;
    doc.time = event.time;
    doc.lines = data.lines.map((line) => ({ sku: line.sku, quantity: line.quantity }));
  },
  salesperson(doc, { event }) {
    if (event.type === 'retail.salesperson.registered') {
      const data = event.data as unknown as RetailEventData['retail.salesperson.registered'];
      doc.name = data.name;
      doc.store = data.store;
    } else {
      asSet(doc, 'assisted')[(event.data as unknown as RetailEventData['retail.salesperson.sale-assisted']).orderId] = true;
    }
  },
  ...Object.fromEntries(['categoryProducts', 'skuOrders', 'storeStaff'].map((name): [string, Updater] => [name, indexUpdater(name)])),
};

/** An index document: a set of members, with the same entries as the CRDT index projection. */
function indexUpdater(name: string): Updater {
  const definition = retailProjections.find((d) => d.name === name)!;
  return (doc, record, key) => {
    // The CRDT index folds members of `key` only; reuse it on a scratch state to find them.
    for (const member of definition.fold(definition.initial(key), record.event, key, { position: '', seq: record.seq }) as string[]) doc[member] = true;
  };
}
