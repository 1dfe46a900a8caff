import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LruCache } from '../base/lruCache.js';

type Operation = { op: 'get' | 'has' | 'delete'; key: number } | { op: 'set'; key: number; value: number };

/** The specification: entries most recent last, the first ones evicted beyond capacity. */
class ModelCache {
  entries: Array<[number, number]> = [];
  evicted: Array<[number, number]> = [];

  constructor(private readonly capacity: number) {}

  apply(operation: Operation): unknown {
    const at = this.entries.findIndex(([key]) => key === operation.key);
    switch (operation.op) {
      case 'has':
        return at >= 0;
      case 'get':
        if (at < 0) return undefined;
        this.entries.push(...this.entries.splice(at, 1));
        return this.entries[this.entries.length - 1]![1];
      case 'delete':
        if (at >= 0) this.entries.splice(at, 1);
        return at >= 0;
      case 'set':
        if (at >= 0) this.entries.splice(at, 1);
        this.entries.push([operation.key, operation.value]);
        while (this.entries.length > this.capacity) this.evicted.push(this.entries.shift()!);
        return undefined;
    }
  }
}

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ op: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), key: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 12 }), value: fc.integer() }),
);

describe('LruCache', () => {
  it('answers and evicts as a least-recently-used list does, whatever the operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(operation, { maxLength: 200 }), (capacity, operations) => {
        const evicted: Array<[number, number]> = [];
        const cache = new LruCache<number, number>(capacity, (key, value) => evicted.push([key, value]));
        const model = new ModelCache(capacity);
        for (const op of operations) {
          const answer = op.op === 'set' ? cache.set(op.key, op.value) : cache[op.op](op.key);
          expect(answer).toEqual(model.apply(op));
          expect(cache.size).toBe(model.entries.length);
        }
        expect(evicted).toEqual(model.evicted);
        // What is left, oldest first: each get makes its key the newest.
        for (const [key, value] of [...model.entries]) expect(cache.get(key)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps nothing with capacity 0, telling the eviction of each value set', () => {
    const evicted: string[] = [];
    const cache = new LruCache<string, number>(0, (key) => evicted.push(key));
    cache.set('a', 1);
    expect(cache.has('a')).toBe(false);
    expect(evicted).toEqual(['a']);
  });
});
