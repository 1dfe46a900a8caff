import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../bench/gc.js';
import { canonicalJson } from '../crdt/index.js';
import { decodeBlock, encodeBlock } from '../ledger/recordBlock.js';
import type { CloudEvent } from '../ledger/types.js';

const event = (i: number): CloudEvent => ({
  specversion: '1.0',
  id: `e-${i}`,
  source: '/hello-retail/catalog',
  type: 'retail.product.created',
  time: '2024-03-01T08:00:00.000Z',
  subject: `sku-${i}`,
  data: Object.fromEntries(Array.from({ length: 20 }, (_, field) => [`attribute${field}`, `value ${field} of product ${i}`])),
});

describe('ledger record blocks', () => {
  it('decode into strings of their own: one kept from an event keeps no block text alive', () => {
    const text = encodeBlock(Array.from({ length: 4000 }, (_, i) => event(i)));
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    // A fold keeps strings like this one (a stamp's source) in entity states.
    const kept = decodeBlock(text)[2000]!.source;
    collectGarbage();
    const retained = process.memoryUsage().heapUsed - before;
    expect(kept).toBe('/hello-retail/catalog');
    // The decoded events hold about 2 MB of such text; the kept string is 21 characters.
    expect(retained).toBeLessThan(256 * 1024);
  });

  it('carry any JSON event faithfully: a __proto__ key, a lone surrogate', () => {
    const odd = JSON.parse('{"specversion":"1.0","id":"\\ud800","source":"s","type":"t","time":"2024-03-01T08:00:00.000Z","subject":"x","data":{"__proto__":{"a":1}}}') as CloudEvent;
    const [decoded] = decodeBlock(encodeBlock([odd]));
    expect(Object.keys(decoded!.data)).toEqual(['__proto__']);
    expect(decoded!.id).toBe('\ud800');
    expect(canonicalJson(decoded)).toBe(canonicalJson(odd));
  });
});
