import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrayElements } from '../gateway/http/arrayElements.js';

/** JSON text of a value with whitespace of its own between tokens. */
const spaced = (value: unknown, pad: string): string => JSON.stringify(value, null, pad).replaceAll('\n', `\n${pad}\r`);

describe('arrayElements', () => {
  it('property: each view is the text of its element, parsing to it exactly, however the array is laid out', () => {
    const object = fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue(), { maxKeys: 5 });
    fc.assert(
      fc.property(fc.array(object, { maxLength: 8 }), fc.constantFrom('', ' ', '\t', '  '), fc.boolean(), (objects, pad, bom) => {
        const text = `${bom ? '\uFEFF' : ''}${pad}[${pad}${objects.map((o) => spaced(o, pad)).join(`${pad},${pad}`)}${pad}]${pad}`;
        const body = Buffer.from(text);
        const parsed = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown[];
        const elements = arrayElements(body, parsed.length)!;
        expect(elements).toHaveLength(parsed.length);
        elements.forEach((element, i) => {
          expect(JSON.parse(Buffer.from(element).toString())).toEqual(parsed[i]);
          expect(element.buffer).toBe(body.buffer);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('gives nothing when an element is not an object', () => {
    expect(arrayElements(Buffer.from('[{"a":1}, [2]]'), 2)).toBeUndefined();
    expect(arrayElements(Buffer.from('["{}"]'), 1)).toBeUndefined();
  });
});
