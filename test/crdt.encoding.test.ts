import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeState, encodeState } from '../crdt/index.js';

const runs = { numRuns: 1000 };
const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', ''), fc.string({ unit: 'grapheme', maxLength: 40 }));
const number = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
// Lengths spread over every header width up to str16: most text is short ASCII.
const text = fc.oneof(fc.string({ maxLength: 300, size: 'max' }), fc.string({ unit: 'grapheme', maxLength: 300, size: 'max' }));
const { value: jsonLike } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant(null), fc.boolean(), number, text, fc.array(tie('value')), fc.dictionary(key, tie('value'), { maxKeys: 20 })),
}));
/** Maps, not objects, so that msgpackr packs and unpacks a `__proto__` key as data. */
const viaMaps = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(viaMaps)
    : value !== null && typeof value === 'object'
      ? new Map(Object.entries(value).map(([k, member]) => [k, viaMaps(member)]))
      : value;
const msgpackr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });

describe('state encoding', () => {
  it('round-trips JSON-like values, hostile keys and any text included', () => {
    fc.assert(fc.property(jsonLike, (value) => canonicalJson(decodeState(encodeState(value))) === canonicalJson(value)), runs);
  });

  it('is standard MessagePack: another implementation reads what it writes, and the other way round', () => {
    fc.assert(
      fc.property(jsonLike, (value) => {
        expect(msgpackr.unpack(encodeState(value))).toEqual(viaMaps(JSON.parse(canonicalJson(value))));
        expect(canonicalJson(decodeState(msgpackr.pack(viaMaps(value))))).toBe(canonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips text longer than 64 KiB, the widest string header', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', minLength: 70_000, maxLength: 80_000 }), (long) => decodeState<string[]>(encodeState([long]))[0] === long), { numRuns: 10, endOnFailure: true });
  });

  it('writes the map header of each width after the members, as other readers expect', () => {
    for (const members of [15, 16, 65_535, 65_536]) {
      // `members` defined members, and undefined ones that must not count.
      const object = Object.fromEntries([...Array.from({ length: members }, (_, i) => [`k${i}`, i]), ['gone', undefined], ['also', undefined]]);
      const bytes = encodeState({ nested: object, after: 'end' });
      expect(canonicalJson(decodeState(bytes))).toBe(canonicalJson({ nested: object, after: 'end' }));
      expect(msgpackr.unpack(bytes)).toEqual(viaMaps(JSON.parse(canonicalJson({ nested: object, after: 'end' }))));
    }
  });

  it('reads the 64-bit and float32 forms other writers use', () => {
    const field = (type: number, size: number, write: (bytes: Buffer) => void): Buffer => {
      const bytes = Buffer.alloc(1 + size, type);
      write(bytes);
      return bytes;
    };
    const uint64 = field(0xcf, 8, (b) => b.writeBigUInt64BE(1_700_000_000_000n, 1));
    const int64 = field(0xd3, 8, (b) => b.writeBigInt64BE(-1_700_000_000_000n, 1));
    const float32 = field(0xca, 4, (b) => b.writeFloatBE(1.5, 1));
    expect([decodeState(uint64), decodeState(int64), decodeState(float32)]).toEqual([1_700_000_000_000, -1_700_000_000_000, 1.5]);
  });

  it('decodes objects, small and large, that inherit no key and take any key as data', () => {
    const small = decodeState<Record<string, unknown>>(encodeState({ a: 1 }));
    const large = decodeState<Record<string, unknown>>(encodeState(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))));
    for (const decoded of [small, large]) {
      for (const inherited of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
        expect(inherited in decoded).toBe(false);
        expect(decoded[inherited]).toBeUndefined();
      }
      decoded['__proto__'] = { polluted: true };
      expect(Object.keys(decoded)).toContain('__proto__');
      expect((decoded as { polluted?: boolean }).polluted).toBeUndefined();
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('leaves out undefined members, as JSON does', () => {
    expect(decodeState(encodeState({ a: undefined, b: [undefined], c: 1 }))).toEqual(Object.assign(Object.create(null), { b: [null], c: 1 }));
  });

  it('refuses truncated or trailing bytes and types that are not JSON-like', () => {
    fc.assert(
      fc.property(jsonLike, fc.nat(), (value, cut) => {
        const bytes = encodeState(value);
        expect(() => decodeState(bytes.subarray(0, cut % bytes.length))).toThrow();
        expect(() => decodeState(Buffer.concat([bytes, Buffer.from([0xc0])]))).toThrow(/after the value/);
      }),
      runs,
    );
    expect(() => encodeState({ n: 1n })).toThrow(/bigint/);
    expect(() => decodeState(Buffer.from([0xc4, 0x01, 0x00]))).toThrow(/not JSON-like/);
  });
});
