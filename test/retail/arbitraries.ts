import fc from 'fast-check';
import type { CloudEvent } from '../../ledger/types.js';

/*
 * Random retail histories over a small universe, so that keys collide, times tie and foreign
 * keys point both ways (sale-assisted before or after its order, prices before products).
 */
const sku = fc.constantFrom('s1', 's2', 's3', '__proto__');
const customer = fc.constantFrom('c1', 'c2', 'constructor');
const category = fc.constantFrom('k1', 'k2');
const store = fc.constantFrom('st1', 'st2');
const salesperson = fc.constantFrom('p1', 'p2');
const orderId = fc.constantFrom('o1', 'o2', 'o3');
const quantity = fc.integer({ min: 1, max: 3 });
const price = fc.integer({ min: 0, max: 500 });
const attributes = fc.dictionary(fc.constantFrom('shade', 'size', '__proto__'), fc.constantFrom('red', 'blue', 'nude'), { maxKeys: 2 });

type Draft = { type: string; subjectField: string; data: Record<string, unknown> };
const draft = (type: string, subjectField: string, data: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Draft> =>
  data.map((d) => ({ type: `retail.${type}`, subjectField, data: d }));

const drafts: fc.Arbitrary<Draft> = fc.oneof(
  draft('product.created', 'sku', fc.record({ sku, name: fc.constantFrom('Alpha', 'Beta', 'alpha'), brand: fc.constantFrom('B1', 'B2'), category, description: fc.constantFrom('nice', 'plain'), price, attributes }, { requiredKeys: ['sku', 'name', 'brand', 'category', 'price'] })),
  draft('product.price-changed', 'sku', fc.record({ sku, price })),
  draft('product.category-changed', 'sku', fc.record({ sku, category })),
  draft('product.attributes-changed', 'sku', fc.record({ sku, attributes: fc.dictionary(fc.constantFrom('shade', 'size', '__proto__'), fc.constantFrom('red', 'blue', null), { maxKeys: 2 }) })),
  draft('product.image-added', 'sku', fc.record({ sku, url: fc.constantFrom('u/1.jpg', 'u/2.jpg', 'u/0.jpg') })),
  draft('product.discontinued', 'sku', fc.record({ sku })),
  draft('customer.registered', 'customerId', fc.record({ customerId: customer, name: fc.constantFrom('Ann', 'Bo') })),
  draft('customer.product-viewed', 'customerId', fc.record({ customerId: customer, sku })),
  draft('cart.item-added', 'customerId', fc.record({ customerId: customer, sku, quantity })),
  draft('cart.item-removed', 'customerId', fc.record({ customerId: customer, sku, quantity })),
  draft('order.placed', 'customerId', fc.record({ customerId: customer, orderId, lines: fc.array(fc.record({ sku, quantity }), { minLength: 1, maxLength: 3 }) })),
  draft('salesperson.registered', 'salespersonId', fc.record({ salespersonId: salesperson, name: fc.constantFrom('Sal', 'Pat'), store })),
  draft('salesperson.sale-assisted', 'salespersonId', fc.record({ salespersonId: salesperson, orderId })),
);

const base = Date.UTC(2026, 0, 1);

/** A set of distinct retail events (unique ids), times within a few ms so that they tie. */
export function retailHistory(maxLength: number): fc.Arbitrary<CloudEvent[]> {
  return fc.array(fc.tuple(drafts, fc.integer({ min: 0, max: 40 }), fc.constantFrom('/web', '/pos')), { maxLength, size: 'max' }).map((list) =>
    list.map(([d, offset, source], n): CloudEvent => ({
      specversion: '1.0',
      id: `e${n}`,
      source,
      type: d.type,
      time: new Date(base + offset).toISOString(),
      subject: d.data[d.subjectField] as string,
      data: d.data,
    })),
  );
}

/**
 * The events as an at-least-once source may deliver them: in any order, some delivered
 * again (same source, id and content) at random positions after their first delivery.
 */
export function atLeastOnceDelivery(events: readonly CloudEvent[], maxRedeliveries: number): fc.Arbitrary<CloudEvent[]> {
  const shuffled = fc.shuffledSubarray([...events], { minLength: events.length, maxLength: events.length });
  const copies = fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: maxRedeliveries, size: 'max' });
  return fc.tuple(shuffled, copies).map(([order, picks]) => {
    const delivered = [...order];
    for (const [pick, gap] of order.length === 0 ? [] : picks) {
      const event = order[pick % order.length]!;
      const first = delivered.indexOf(event);
      delivered.splice(first + 1 + (gap % (delivered.length - first)), 0, structuredClone(event));
    }
    return delivered;
  });
}
