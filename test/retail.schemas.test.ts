import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import type { CloudEvent } from '../ledger/types.js';
import { validateBatch, validateEvent } from '../retail/validation.js';
import { retailEventTypes, type RetailEventType } from '../retail/catalogue.js';

const dataByType: Record<RetailEventType, Record<string, unknown>> = {
  'retail.product.created': {
    sku: 'sku-1',
    name: 'Velvet Lipstick',
    brand: 'Aurora',
    category: 'cosmetics',
    description: 'Long-wearing.',
    price: 1999,
    attributes: { shade: 'ruby' },
  },
  'retail.product.price-changed': { sku: 'sku-1', price: 0 },
  'retail.product.category-changed': { sku: 'sku-1', category: 'sale' },
  'retail.product.attributes-changed': { sku: 'sku-1', attributes: { shade: 'coral', finish: null } },
  'retail.product.image-added': { sku: 'sku-1', url: 'https://images.example/1.jpg', photographerId: 'ph-1' },
  'retail.product.discontinued': { sku: 'sku-1' },
  'retail.customer.registered': { customerId: 'c-1', name: 'Ada Lopez' },
  'retail.customer.product-viewed': { customerId: 'c-1', sku: 'sku-1' },
  'retail.cart.item-added': { customerId: 'c-1', sku: 'sku-1', quantity: 2 },
  'retail.cart.item-removed': { customerId: 'c-1', sku: 'sku-1', quantity: 1 },
  'retail.order.placed': { customerId: 'c-1', orderId: 'o-1', lines: [{ sku: 'sku-1', quantity: 2 }] },
  'retail.salesperson.registered': { salespersonId: 'sp-1', name: 'Sam Ito', store: 'seattle-downtown' },
  'retail.salesperson.sale-assisted': { salespersonId: 'sp-1', orderId: 'o-1' },
};

const types = Object.keys(dataByType) as RetailEventType[];

function example(type: RetailEventType): Record<string, unknown> {
  const data = structuredClone(dataByType[type]);
  return {
    specversion: '1.0',
    id: 'e-1',
    source: '/hello-retail/web',
    type,
    time: '2024-03-01T08:00:00.123Z',
    subject: data[retailEventTypes[type].keyField],
    data,
  };
}

function rejection(value: unknown, index?: number): FoldlineError {
  try {
    validateEvent(value, index);
  } catch (error) {
    if (error instanceof FoldlineError) return error;
    throw error;
  }
  throw new Error(`accepted: ${JSON.stringify(value)}`);
}

const itemAdded = (): Record<string, unknown> => example('retail.cart.item-added');
const withData = (type: RetailEventType, data: Record<string, unknown>) => ({ ...example(type), data: { ...dataByType[type], ...data } });

describe('validateEvent', () => {
  it.each(types)('accepts a valid %s and returns it as given', (type) => {
    const event = example(type);
    expect(validateEvent(event)).toBe(event);
  });

  it('accepts optional data fields left out', () => {
    const { description, attributes, ...created } = dataByType['retail.product.created'];
    expect(validateEvent({ ...example('retail.product.created'), data: created }).data).toEqual(created);
    const { photographerId, ...image } = dataByType['retail.product.image-added'];
    expect(validateEvent({ ...example('retail.product.image-added'), data: image }).data).toEqual(image);
  });

  it('keeps extension attributes, datacontenttype and dataschema, and time offsets', () => {
    const event = {
      ...itemAdded(),
      time: '2024-03-01T00:00:00.5-08:00',
      datacontenttype: 'application/json',
      dataschema: 'https://schemas.example/cart.json',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      partitionkey: 'c-1',
      retries: 3,
      replayed: false,
    };
    expect(validateEvent(structuredClone(event))).toEqual(event);
  });

  const bad: [string, unknown, string, string][] = [
    ['not an object', [itemAdded()], 'invalid_event', ''],
    ['null', null, 'invalid_event', ''],
    ['missing type', { ...itemAdded(), type: undefined }, 'invalid_event', '/type'],
    ['type not a string', { ...itemAdded(), type: 7 }, 'invalid_event', '/type'],
    ['unknown type', { ...itemAdded(), type: 'retail.cart.emptied' }, 'unknown_type', '/type'],
    ['missing envelope field', { ...itemAdded(), id: undefined }, 'invalid_event', '/id'],
    ['empty source', { ...itemAdded(), source: '' }, 'invalid_event', '/source'],
    ['wrong specversion', { ...itemAdded(), specversion: '0.3' }, 'invalid_event', '/specversion'],
    ['unknown top-level field', { ...itemAdded(), Partition: 'x' }, 'invalid_event', '/Partition'],
    ['extension name too long', { ...itemAdded(), abcdefghijklmnopqrstu: 'x' }, 'invalid_event', '/abcdefghijklmnopqrstu'],
    ['extension of object value', { ...itemAdded(), trace: { a: 1 } }, 'invalid_event', '/trace'],
    ['data_base64', { ...itemAdded(), data_base64: 'AA==' }, 'invalid_event', '/data_base64'],
    ['data not an object', { ...itemAdded(), data: 'c-1' }, 'invalid_event', '/data'],
    ['missing data field', { ...itemAdded(), data: { customerId: 'c-1', sku: 'sku-1' } }, 'invalid_event', '/data/quantity'],
    ['unknown data field', withData('retail.cart.item-added', { colour: 'red' }), 'invalid_event', '/data/colour'],
    ['pointer-escaped unknown field', withData('retail.cart.item-added', { 'a/b~c': 1 }), 'invalid_event', '/data/a~1b~0c'],
    ['wrong type', withData('retail.cart.item-added', { quantity: '2' }), 'invalid_event', '/data/quantity'],
    ['quantity 0', withData('retail.cart.item-added', { quantity: 0 }), 'invalid_event', '/data/quantity'],
    ['quantity 1.5', withData('retail.cart.item-removed', { quantity: 1.5 }), 'invalid_event', '/data/quantity'],
    ['price -1', withData('retail.product.price-changed', { price: -1 }), 'invalid_event', '/data/price'],
    ['price 1.5', withData('retail.product.created', { price: 1.5 }), 'invalid_event', '/data/price'],
    ['price beyond safe integers', withData('retail.product.created', { price: 2 ** 53 }), 'invalid_event', '/data/price'],
    ['empty sku', withData('retail.product.discontinued', { sku: '' }), 'invalid_event', '/data/sku'],
    ['name too long', withData('retail.customer.registered', { name: 'x'.repeat(201) }), 'invalid_event', '/data/name'],
    ['no order lines', withData('retail.order.placed', { lines: [] }), 'invalid_event', '/data/lines'],
    ['bad order line', withData('retail.order.placed', { lines: [{ sku: 'a', quantity: 1 }, { sku: 'b', quantity: 0 }] }), 'invalid_event', '/data/lines/1/quantity'],
    ['unknown order line field', withData('retail.order.placed', { lines: [{ sku: 'a', quantity: 1, price: 5 }] }), 'invalid_event', '/data/lines/0/price'],
    ['null attribute on created', withData('retail.product.created', { attributes: { shade: null } }), 'invalid_event', '/data/attributes/shade'],
    ['number attribute', withData('retail.product.attributes-changed', { attributes: { size: 9 } }), 'invalid_event', '/data/attributes/size'],
    ['empty attribute key', withData('retail.product.attributes-changed', { attributes: { '': 'x' } }), 'invalid_event', '/data/attributes/'],
    ['too many attributes', withData('retail.product.attributes-changed', { attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v'])) }), 'invalid_event', '/data/attributes'],
    ['time not a string', { ...itemAdded(), time: 1709280000000 }, 'invalid_event', '/time'],
    ['February 30th', { ...itemAdded(), time: '2024-02-30T00:00:00Z' }, 'bad_time', '/time'],
    ['yesterday', { ...itemAdded(), time: 'yesterday' }, 'bad_time', '/time'],
    ['time without zone', { ...itemAdded(), time: '2024-03-01T08:00:00' }, 'bad_time', '/time'],
    ['subject mismatch', { ...itemAdded(), subject: 'c-2' }, 'subject_mismatch', '/subject'],
    ['subject of the wrong field', { ...itemAdded(), subject: 'sku-1' }, 'subject_mismatch', '/subject'],
  ];

  it.each(bad)('refuses %s', (_, value, code, path) => {
    const error = rejection(value);
    expect({ code: error.code, path: error.path, index: error.index }).toEqual({ code, path, index: undefined });
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('says what is wrong in words', () => {
    expect(rejection(withData('retail.cart.item-added', { quantity: 0 })).message).toBe('/data/quantity must be >= 1');
    expect(rejection({ ...itemAdded(), data: { customerId: 'c-1', sku: 'sku-1' } }).message).toBe('/data/quantity is required');
    expect(rejection(withData('retail.cart.item-added', { colour: 'red' })).message).toBe('/data/colour is not a known field');
    expect(rejection({ ...itemAdded(), time: 'yesterday' }).message).toBe('/time "yesterday" is not an RFC 3339 date-time');
    expect(rejection({ ...itemAdded(), subject: 'c-2' }, 4).message).toBe('/subject must equal /data/customerId for retail.cart.item-added');
  });

  it('takes hostile attribute keys as plain data and keeps them', () => {
    const text = JSON.stringify(example('retail.product.attributes-changed')).replace(
      '"attributes":{',
      '"attributes":{"__proto__":"x","constructor":null,"hasOwnProperty":"y","toString":"z",',
    );
    const event = validateEvent(JSON.parse(text));
    const attributes = (event.data as { attributes: Record<string, unknown> }).attributes;
    expect(Object.keys(attributes)).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'shade', 'finish']);
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(JSON.stringify(event)).toBe(text);
  });

  it('refuses a hostile key where data has fixed fields', () => {
    const text = JSON.stringify(example('retail.product.discontinued')).replace('"data":{', '"data":{"__proto__":{"price":1},');
    expect(rejection(JSON.parse(text)).path).toBe('/data/__proto__');
    const top = JSON.stringify(example('retail.product.discontinued')).replace('{', '{"__proto__":"x",');
    expect(rejection(JSON.parse(top)).path).toBe('/__proto__');
  });

  it('counts lengths in characters, not UTF-16 units: 200 emoji are a name of 200', () => {
    const named = (length: number) => {
      const event = example('retail.customer.registered');
      (event.data as { name: string }).name = '😀'.repeat(length);
      return event;
    };
    expect(validateEvent(named(200)).data.name).toBe('😀'.repeat(200));
    const error = rejection(named(201));
    expect([error.code, error.path, error.message]).toEqual(['invalid_event', '/data/name', '/data/name must NOT have more than 200 characters']);
  });

  it('property: any attribute map within the limits is accepted unchanged', () => {
    const key = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
      fc.string({ unit: 'binary', minLength: 150, maxLength: 200, size: 'max' }),
      fc.constantFrom('__proto__', 'constructor', 'valueOf', 'a/b', '~'),
    );
    const value = fc.option(fc.string({ maxLength: 50 }), { nil: null });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 100 }), (entries) => {
        // Built as JSON text, so `__proto__` becomes an own key as it does on the wire.
        const attributes = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
        const text = JSON.stringify(example('retail.product.attributes-changed')).replace(/"attributes":\{[^}]*\}/, () => `"attributes":${attributes}`);
        const event = validateEvent(JSON.parse(text));
        const kept = Object.entries((event.data as { attributes: object }).attributes);
        const sorted = (list: [string, unknown][]) => list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(sorted(kept)).toEqual(sorted(entries));
      }),
      { numRuns: 100 },
    );
  });

  it('property: a required data field left out is named by its path', () => {
    const optional: Partial<Record<RetailEventType, string[]>> = {
      'retail.product.created': ['description', 'attributes'],
      'retail.product.image-added': ['photographerId'],
    };
    const required = types.flatMap((type) =>
      Object.keys(dataByType[type])
        .filter((field) => !optional[type]?.includes(field))
        .map((field) => [type, field] as const),
    );
    fc.assert(
      fc.property(fc.constantFrom(...required), ([type, field]) => {
        const event = example(type);
        delete (event.data as Record<string, unknown>)[field];
        const error = rejection(event);
        expect([error.code, error.path]).toEqual(['invalid_event', `/data/${field}`]);
      }),
    );
  });

  it('property: a scalar data field of the wrong JSON type is named by its path', () => {
    const scalars = types.flatMap((type) =>
      Object.entries(dataByType[type])
        .filter(([, value]) => typeof value === 'string' || typeof value === 'number')
        .map(([field]) => [type, field] as const),
    );
    const wrong = fc.oneof(fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }));
    fc.assert(
      fc.property(fc.constantFrom(...scalars), wrong, ([type, field], value) => {
        const event = example(type);
        (event.data as Record<string, unknown>)[field] = value;
        const error = rejection(event);
        expect([error.code, error.path]).toEqual(['invalid_event', `/data/${field}`]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('validateBatch', () => {
  it('returns every event of a valid batch, in order', () => {
    const batch = types.map(example);
    const events: CloudEvent[] = validateBatch(batch);
    expect(events).toEqual(batch);
  });

  it('reports the index of the first bad event', () => {
    const batch = [itemAdded(), itemAdded(), withData('retail.cart.item-added', { quantity: 0 }), { ...itemAdded(), subject: 'x' }];
    let error: unknown;
    try {
      validateBatch(batch);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FoldlineError);
    expect((error as FoldlineError).toJSON()).toEqual({
      code: 'invalid_event',
      message: '/data/quantity must be >= 1',
      index: 2,
      path: '/data/quantity',
    });
  });
});
