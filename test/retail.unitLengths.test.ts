import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withUnitLengths } from '../retail/unitLengths.js';

describe('withUnitLengths', () => {
  const exactAjv = new Ajv();
  const unitsAjv = withUnitLengths(new Ajv());
  const limits = fc.record({ minLength: fc.option(fc.nat(6), { nil: undefined }), maxLength: fc.option(fc.nat(6), { nil: undefined }) });
  // Astral characters (two units each) and lone surrogates, among ASCII.
  const text = fc.array(fc.constantFrom('a', 'é', '😀', '\ud800', '\udc00'), { maxLength: 14 }).map((parts) => parts.join(''));

  it('property: admits nothing that the exact code-point count refuses', () => {
    fc.assert(
      fc.property(limits, text, (bounds, value) => {
        const schema = { type: 'string', ...bounds };
        if (unitsAjv.validate(schema, value)) expect(exactAjv.validate(schema, value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the exact count wherever units and code points are the same', () => {
    const schema = { type: 'string', minLength: 1, maxLength: 3 };
    expect(['', 'a', 'abc', 'abcd', 'ééé'].map((value) => unitsAjv.validate(schema, value))).toEqual([false, true, true, false, true]);
  });

  it('refuses, for the exact validator to decide, what only a code-point count admits', () => {
    expect(unitsAjv.validate({ type: 'string', maxLength: 1 }, '😀')).toBe(false);
    expect(exactAjv.validate({ type: 'string', maxLength: 1 }, '😀')).toBe(true);
    expect(unitsAjv.validate({ type: 'string', minLength: 2 }, 'abc')).toBe(false);
    expect(unitsAjv.validate({ type: 'string', minLength: 2 }, 'abcd')).toBe(true);
  });
});
