import { Counter, getConflicts, getObjectId, type DecodedChange } from '@automerge/automerge';
import { compareStrings, counterValue, dict } from '../crdt/index.js';
import type { DocumentMapping } from '../gateway/sync/types.js';
import type { ViewDefinition } from '../joiner/types.js';
import type { CloudEvent } from '../ledger/types.js';
import { customerProjection } from './projections.js';
import { checkEntityKey } from './views.js';

/*
 * A customer's cart as an Automerge document that devices edit offline (docs/offline.md):
 * `{ items: { [sku]: { quantity: Counter } } }`. A device adds with `increment(n)`, removes
 * with `increment(-n)`, and makes an item only when it has none for the sku. Each change it
 * makes becomes one cart event per sku it touched, on the customer stream.
 */

export interface CartDocument {
  items: Record<string, { quantity: Counter }>;
}

/** The ledger's side of a cart document: Σ added − Σ removed per sku, as the `cart` view has it before clamping at zero. */
export interface CartCounts {
  customerId: string;
  quantities: Record<string, number>;
}

/** The source of the events made from device changes; their ids are `<change hash>-<n>`. */
export const cartDocumentSource = 'urn:foldline:cart-document';

export const cartCountsView: ViewDefinition = {
  name: 'cart-counts',
  checkKey: checkEntityKey,
  compute(customerId, lookup): CartCounts {
    const cart = lookup.get(customerProjection, customerId)?.cart ?? {};
    const quantities = dict<number>();
    for (const sku of Object.keys(cart).sort(compareStrings)) quantities[sku] = counterValue(cart[sku]!);
    return { customerId, quantities };
  },
};

/** A counter's value as a device may have left it: a Counter, a plain number, or anything else (none). */
function quantityOf(item: unknown): number {
  const quantity = (item as { quantity?: unknown } | undefined)?.quantity;
  const value = typeof quantity === 'number' ? quantity : (quantity as { value?: unknown } | undefined)?.value;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export const cartDocument: DocumentMapping<CartDocument> = {
  view: cartCountsView.name,
  route: '/v1/carts/{key}/document',

  initial(doc) {
    doc.items = {};
  },

  counters(doc) {
    const counters = new Map<string, number>();
    for (const sku of Object.keys(doc.items ?? {})) counters.set(sku, quantityOf(doc.items[sku]));
    return counters;
  },

  ledgerCounters(value) {
    return new Map(Object.entries((value as CartCounts).quantities));
  },

  changeAmounts(change: DecodedChange, doc) {
    const amounts = new Map<string, number>();
    if (doc.items === undefined) return amounts;
    const itemsId = getObjectId(doc.items);
    // Every item object under each sku, concurrent ones too (the sku's conflicts, by object id, when there are several).
    const skuOfItem = new Map<string, string>();
    for (const sku of Object.keys(doc.items)) {
      const conflicts = getConflicts(doc.items, sku);
      const itemIds = conflicts ? Object.keys(conflicts) : [getObjectId(doc.items[sku])];
      for (const itemId of itemIds) if (itemId) skuOfItem.set(itemId, sku);
    }
    change.ops.forEach((op, index) => {
      if (op.action === 'makeMap' && op.obj === itemsId) skuOfItem.set(`${change.startOp + index}@${change.actor}`, op.key);
      else if (op.key === 'quantity' && typeof op.value === 'number' && (op.action === 'inc' || (op.action === 'set' && op.datatype === 'counter'))) {
        const sku = skuOfItem.get(op.obj);
        if (sku !== undefined) amounts.set(sku, (amounts.get(sku) ?? 0) + op.value);
      }
    });
    for (const [sku, amount] of amounts) if (amount === 0) amounts.delete(sku);
    return amounts;
  },

  add(doc, sku, amount) {
    if (doc.items === undefined) doc.items = {};
    const item = doc.items[sku];
    const quantity = item?.quantity as unknown;
    if (quantity instanceof Counter) quantity.increment(amount);
    else if (item !== undefined) item.quantity = new Counter(quantityOf(item) + amount);
    else doc.items[sku] = { quantity: new Counter(amount) };
  },

  events(customerId, { hash, time, amounts }) {
    return [...amounts.keys()].sort(compareStrings).map((sku, index): CloudEvent => {
      const amount = amounts.get(sku)!;
      return {
        specversion: '1.0',
        id: `${hash}-${index}`,
        source: cartDocumentSource,
        type: amount > 0 ? 'retail.cart.item-added' : 'retail.cart.item-removed',
        time,
        subject: customerId,
        data: { customerId, sku, quantity: Math.abs(amount) },
      };
    });
  },
};
