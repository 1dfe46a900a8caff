import type { CloudEvent, StreamRouter, StreamSpec } from '../ledger/types.js';

/*
 * The retail event catalogue, docs/retail.md "Events": each event type declared once, with
 * its stream, the data field its subject must equal, and its data both as a TypeScript type
 * and as a JSON Schema (draft-07, ajv 8's default) checked against that type field by field.
 * Validation (retail/validation.ts) compiles the schemas, routing reads the streams, the
 * folds and the generator read the data types (RetailEventData).
 */

export const retailStreamNames = ['customer', 'product', 'salesperson'] as const;
export type RetailStream = (typeof retailStreamNames)[number];

/** Lengths are capped so that one event cannot blow up entity state; money and quantities stay safe integers. */
export const limits = {
  /** ids, skus, names, stores, categories, attribute keys */
  text: 200,
  description: 5000,
  url: 2000,
  attributeValue: 1000,
  attributes: 100,
  orderLines: 1000,
  /** source, dataschema, datacontenttype and string extension values */
  attribute: 2000,
} as const;

export type Schema = Record<string, unknown>;

/** ids, skus, names and the like. */
export const shortText: Schema = { type: 'string', minLength: 1, maxLength: limits.text };
/** Money is integer cents. */
const cents: Schema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const quantity: Schema = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
const attributeKey: Schema = { minLength: 1, maxLength: limits.text };

function attributes(values: string | string[]): Schema {
  return {
    type: 'object',
    maxProperties: limits.attributes,
    propertyNames: attributeKey,
    additionalProperties: { type: values, maxLength: limits.attributeValue },
  };
}

function object(required: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema {
  return {
    type: 'object',
    required: Object.keys(required),
    properties: { ...required, ...optional },
    additionalProperties: false,
  };
}

/** The fields of a data type that an event may leave out, and those it must give. */
type OptionalField<D> = { [K in keyof D]-?: {} extends Pick<D, K> ? K : never }[keyof D];
type RequiredField<D> = Exclude<keyof D, OptionalField<D>>;

declare const dataType: unique symbol;

/** One event type of the catalogue, whose data is a `D`. */
interface EventSpec<D> {
  readonly stream: RetailStream;
  /** The data field the event's `subject` must equal: the entity it is about. */
  readonly keyField: RequiredField<D> & string;
  /** The JSON Schema of the event's `data`. */
  readonly data: Schema;
  /** Never present: carries `D` to RetailEventData. */
  readonly [dataType]?: D;
}

/**
 * An event type whose data is a `D`: a schema for each field `D` requires, then one for
 * each it may leave out (when it has such fields), so that the schema and the type cannot
 * name different fields.
 */
function eventSpec<D>(
  stream: RetailStream,
  keyField: RequiredField<D> & string,
  required: Record<RequiredField<D>, Schema>,
  ...optional: [OptionalField<D>] extends [never] ? [] : [Record<OptionalField<D>, Schema>]
): EventSpec<D> {
  return { stream, keyField, data: object(required, optional[0]) };
}

interface ProductCreated {
  sku: string;
  name: string;
  brand: string;
  category: string;
  description?: string;
  price: number;
  attributes?: Record<string, string>;
}

export interface OrderLine {
  sku: string;
  quantity: number;
}

export const retailEventTypes = {
  'retail.product.created': eventSpec<ProductCreated>(
    'product',
    'sku',
    { sku: shortText, name: shortText, brand: shortText, category: shortText, price: cents },
    { description: { type: 'string', maxLength: limits.description }, attributes: attributes('string') },
  ),
  'retail.product.price-changed': eventSpec<{ sku: string; price: number }>('product', 'sku', { sku: shortText, price: cents }),
  'retail.product.category-changed': eventSpec<{ sku: string; category: string }>('product', 'sku', { sku: shortText, category: shortText }),
  /** A null value removes the attribute. */
  'retail.product.attributes-changed': eventSpec<{ sku: string; attributes: Record<string, string | null> }>('product', 'sku', {
    sku: shortText,
    attributes: attributes(['string', 'null']),
  }),
  'retail.product.image-added': eventSpec<{ sku: string; url: string; photographerId?: string }>(
    'product',
    'sku',
    { sku: shortText, url: { type: 'string', minLength: 1, maxLength: limits.url } },
    { photographerId: shortText },
  ),
  'retail.product.discontinued': eventSpec<{ sku: string }>('product', 'sku', { sku: shortText }),
  'retail.customer.registered': eventSpec<{ customerId: string; name: string }>('customer', 'customerId', { customerId: shortText, name: shortText }),
  'retail.customer.product-viewed': eventSpec<{ customerId: string; sku: string }>('customer', 'customerId', { customerId: shortText, sku: shortText }),
  'retail.cart.item-added': eventSpec<{ customerId: string; sku: string; quantity: number }>('customer', 'customerId', { customerId: shortText, sku: shortText, quantity }),
  'retail.cart.item-removed': eventSpec<{ customerId: string; sku: string; quantity: number }>('customer', 'customerId', { customerId: shortText, sku: shortText, quantity }),
  'retail.order.placed': eventSpec<{ customerId: string; orderId: string; lines: OrderLine[] }>('customer', 'customerId', {
    customerId: shortText,
    orderId: shortText,
    lines: { type: 'array', minItems: 1, maxItems: limits.orderLines, items: object({ sku: shortText, quantity }) },
  }),
  'retail.salesperson.registered': eventSpec<{ salespersonId: string; name: string; store: string }>('salesperson', 'salespersonId', {
    salespersonId: shortText,
    name: shortText,
    store: shortText,
  }),
  'retail.salesperson.sale-assisted': eventSpec<{ salespersonId: string; orderId: string }>('salesperson', 'salespersonId', { salespersonId: shortText, orderId: shortText }),
};

export type RetailEventType = keyof typeof retailEventTypes;

/** The `data` of each retail event type, as its schema admits it. */
export type RetailEventData = { [T in RetailEventType]: (typeof retailEventTypes)[T] extends EventSpec<infer D> ? D : never };

export function isRetailEventType(type: string): type is RetailEventType {
  return Object.prototype.hasOwnProperty.call(retailEventTypes, type);
}

export function retailStreams(shards = 4): StreamSpec[] {
  return retailStreamNames.map((name) => ({ name, shards }));
}

/** Routes a (validated) retail event to its stream; an unknown type routes nowhere. */
export const retailRouter: StreamRouter = (event: CloudEvent) => (isRetailEventType(event.type) ? retailEventTypes[event.type].stream : '');
