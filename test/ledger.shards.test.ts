import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../ledger/shards.js';

describe('shardOf', () => {
  // MD5 of the key read as a 128-bit integer, over equal ranges: with 4 shards the top two
  // bits of the digest pick the shard. md5('') = d41d8c…, md5('a') = 0cc175…,
  // md5('abc') = 900150…, md5('message digest') = f96b69….
  it('maps keys by MD5 over 128-bit hash ranges, as Kinesis does', () => {
    expect(['', 'a', 'abc', 'message digest'].map((key) => shardOf(key, 4))).toEqual([3, 0, 2, 3]);
    // 0xd41d8c…/2^128 ≈ 0.829, 0x0cc175…/2^128 ≈ 0.050, 0x900150…/2^128 ≈ 0.563
    expect(['', 'a', 'abc'].map((key) => shardOf(key, 3))).toEqual([2, 0, 1]);
    expect(shardOf('abc', 1)).toBe(0);
    expect(shardOf('abc', 2)).toBe(1);
  });

  it('hashes the UTF-8 bytes of the key', () => {
    // md5 of 'é' as UTF-8 (c3 a9) = 66ddcd… (shard 1); of the Latin-1 byte e9 = 340687… (shard 0).
    expect(shardOf('é', 4)).toBe(1);
  });

  it('spreads 10,000 keys evenly over 4 shards', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[shardOf(`customer-${i}`, 4)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(2300);
    for (const count of counts) expect(count).toBeLessThan(2700);
  });
});

describe('shardOf against the 128-bit formula', () => {
  const exact = (key: string, shards: number): number =>
    Number((BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`) * BigInt(shards)) / (1n << 128n));

  it('agrees for any key and shard count', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 100_000 }), (key, shards) => {
        expect(shardOf(key, shards)).toBe(exact(key, shards));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees next to hash range boundaries', () => {
    // Keys whose digest's top 32 bits times the shard count fall just below a boundary.
    let checked = 0;
    for (let i = 0; checked < 50 && i < 2_000_000; i++) {
      const key = `k${i}`;
      const top = createHash('md5').update(key).digest().readUInt32BE(0);
      const shards = 3 + (i % 7);
      if ((top * shards) % 2 ** 32 >= 2 ** 32 - 2 ** 26) {
        expect(shardOf(key, shards)).toBe(exact(key, shards));
        checked++;
      }
    }
    expect(checked).toBe(50);
  });
});
