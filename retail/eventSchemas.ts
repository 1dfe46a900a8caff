import type { RetailEventType } from './streams.js';

/**
 * JSON Schemas (draft-07, ajv 8's default) of the retail CloudEvents: the
 * envelope of docs/retail.md "Events" around one `data` schema per event type. Lengths are capped
 * so that one event cannot blow up entity state; money and quantities stay safe integers.
 */

type Schema = Record<string, unknown>;

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

const text: Schema = { type: 'string', minLength: 1, maxLength: limits.text };
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

export const dataSchemas: Record<RetailEventType, Schema> = {
  'retail.product.created': object(
    { sku: text, name: text, brand: text, category: text, price: cents },
    { description: { type: 'string', maxLength: limits.description }, attributes: attributes('string') },
  ),
  'retail.product.price-changed': object({ sku: text, price: cents }),
  'retail.product.category-changed': object({ sku: text, category: text }),
  'retail.product.attributes-changed': object({
    sku: text,
    attributes: attributes(['string', 'null']),
  }),
  'retail.product.image-added': object(
    { sku: text, url: { type: 'string', minLength: 1, maxLength: limits.url } },
    { photographerId: text },
  ),
  'retail.product.discontinued': object({ sku: text }),
  'retail.customer.registered': object({ customerId: text, name: text }),
  'retail.customer.product-viewed': object({ customerId: text, sku: text }),
  'retail.cart.item-added': object({ customerId: text, sku: text, quantity }),
  'retail.cart.item-removed': object({ customerId: text, sku: text, quantity }),
  'retail.order.placed': object({
    customerId: text,
    orderId: text,
    lines: { type: 'array', minItems: 1, maxItems: limits.orderLines, items: object({ sku: text, quantity }) },
  }),
  'retail.salesperson.registered': object({ salespersonId: text, name: text, store: text }),
  'retail.salesperson.sale-assisted': object({ salespersonId: text, orderId: text }),
};

const attributeText: Schema = { type: 'string', minLength: 1, maxLength: limits.attribute };

/** The whole event of one type: the CloudEvents 1.0 structured-mode envelope and its data. */
export function eventSchema(type: RetailEventType): Schema {
  const attributes: Record<string, Schema> = {
    specversion: { const: '1.0' },
    id: text,
    source: attributeText,
    type: { const: type },
    // Only shape here: parseTime decides whether it is a real RFC 3339 instant.
    time: { type: 'string', maxLength: 64 },
    subject: text,
    datacontenttype: attributeText,
    dataschema: attributeText,
    data: dataSchemas[type],
  };
  // CloudEvents extensions: any other name of lower-case letters and digits, at most 20.
  const extension = `^(?!(?:${Object.keys(attributes).join('|')})$)[a-z0-9]{1,20}$`;
  return {
    type: 'object',
    required: ['specversion', 'id', 'source', 'type', 'time', 'subject', 'data'],
    properties: attributes,
    patternProperties: { [extension]: { type: ['string', 'number', 'boolean'], maxLength: limits.attribute } },
    additionalProperties: false,
  };
}
