import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  counterAdd,
  counterValue,
  decodeState,
  encodeState,
  frontier,
  frontierAdvance,
  frontierCovers,
  gsetAdd,
  lwwMap,
  lwwMapSet,
  lwwMapValues,
  mergeCounters,
  mergeFrontiers,
  mergeGSets,
  mergeLww,
  mergeLwwMaps,
  mergeTopK,
  pnCounter,
  topK,
  topKOffer,
  compareSeq,
  type Frontier,
  type GSet,
  type Lww,
  type LwwMap,
  type PnCounter,
  type Stamp,
  type TopK,
} from '../crdt/index.js';

const runs = { numRuns: 1000 };

// Few distinct values make collisions (equal times, equal keys) common.
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a', 'b', 'c', '');
const stamp: fc.Arbitrary<Stamp> = fc.record({
  t: fc.integer({ min: 0, max: 5 }),
  id: fc.constantFrom('e1', 'e2', 'e3'),
  src: fc.constantFrom('s1', 's2'),
});
// A stamp names one event, so it always carries the same value.
const valueOf = (s: Stamp): string => `${s.t}:${s.id}:${s.src}`;
const register: fc.Arbitrary<Lww<string>> = stamp.map((s) => ({ v: valueOf(s), s }));

const map: fc.Arbitrary<LwwMap<string>> = fc
  .array(fc.tuple(hostileKey, stamp, fc.boolean()), { maxLength: 12 })
  .map((writes) => {
    const m = lwwMap<string>();
    for (const [key, s, remove] of writes) lwwMapSet(m, key, remove ? null : `${key}=${valueOf(s)}`, s);
    return m;
  });

// Replica r's counts only grow: model each replica's history as a prefix of one sequence.
const counterHistory = fc.array(fc.tuple(fc.constantFrom('r1', 'r2', '__proto__'), fc.integer({ min: -5, max: 5 })), { maxLength: 15 });
function countersFrom(history: Array<[string, number]>, cuts: number[]): PnCounter {
  const c = pnCounter();
  const seenPerReplica = new Map<string, number>();
  for (const [replica, delta] of history) {
    const seen = seenPerReplica.get(replica) ?? 0;
    seenPerReplica.set(replica, seen + 1);
    if (seen < (cuts[replica.length % cuts.length] ?? 0)) counterAdd(c, replica, delta);
  }
  return c;
}

const gset: fc.Arbitrary<GSet> = fc.array(hostileKey, { maxLength: 8 }).map((items) => {
  const s: GSet = [];
  for (const item of items) gsetAdd(s, item);
  return s;
});

const top: fc.Arbitrary<TopK> = fc.array(fc.tuple(hostileKey, fc.integer({ min: 0, max: 6 })), { maxLength: 10 }).map((offers) => {
  const t = topK(3);
  for (const [key, score] of offers) topKOffer(t, key, score);
  return t;
});

const seq = fc.bigInt({ min: 1n, max: 1n << 70n }).map(String);
const front: fc.Arbitrary<Frontier> = fc.array(fc.tuple(fc.constantFrom('a/0', 'a/1', 'b/0', '__proto__/0'), seq), { maxLength: 6 }).map((pairs) => {
  const f = frontier();
  for (const [position, s] of pairs) frontierAdvance(f, position, s);
  return f;
});

/** Checks that `merge` is associative, commutative and idempotent under canonical JSON. */
function lawsOf<T>(name: string, arbitrary: fc.Arbitrary<T>, merge: (a: T, b: T) => T): void {
  const same = (a: T, b: T): void => {
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  };
  describe(name, () => {
    it('merge is associative', () => {
      fc.assert(fc.property(arbitrary, arbitrary, arbitrary, (a, b, c) => same(merge(merge(a, b), c), merge(a, merge(b, c)))), runs);
    });
    it('merge is commutative', () => {
      fc.assert(fc.property(arbitrary, arbitrary, (a, b) => same(merge(a, b), merge(b, a))), runs);
    });
    it('merge is idempotent', () => {
      fc.assert(fc.property(arbitrary, (a) => same(merge(a, a), a)), runs);
    });
    it('survives the persistent encoding', () => {
      fc.assert(fc.property(arbitrary, (a) => same(decodeState<T>(encodeState(a)), a)), runs);
    });
  });
}

lawsOf('LWW register', register, (a, b) => mergeLww(a, b)!);
lawsOf('LWW map', map, mergeLwwMaps);
lawsOf('grow-only set', gset, mergeGSets);
lawsOf('top-K', top, mergeTopK);
lawsOf('frontier', front, (a, b) => mergeFrontiers(a, b));
// Real replicas hold prefixes of one history of increments: cut one fixed history anywhere.
const sharedHistory = fc.sample(counterHistory, { numRuns: 1, seed: 7 })[0]!.concat([['r1', 3], ['r2', -2], ['__proto__', 4], ['r1', -1]]);
const counter = fc.array(fc.nat(15), { minLength: 3, maxLength: 3 }).map((cuts) => countersFrom(sharedHistory, cuts));
lawsOf('PN counter', counter, mergeCounters);

describe('PN counter against its model', () => {
  it('merging prefixes of one history counts each increment once', () => {
    fc.assert(
      fc.property(counterHistory, fc.array(fc.nat(15), { minLength: 3, maxLength: 3 }), fc.array(fc.nat(15), { minLength: 3, maxLength: 3 }), (history, cutsA, cutsB) => {
        const merged = mergeCounters(countersFrom(history, cutsA), countersFrom(history, cutsB));
        const longest = cutsA.map((cut, i) => Math.max(cut, cutsB[i]!));
        expect(counterValue(merged)).toBe(counterValue(countersFrom(history, longest)));
        expect(canonicalJson(mergeCounters(merged, merged))).toBe(canonicalJson(merged));
      }),
      runs,
    );
  });
});

describe('LWW map against its model', () => {
  it('holds, per key, the value of the write with the greatest (time, id, source) unless that write removed it', () => {
    // One stamp is one event: it either writes or removes a key, never both.
    const writes = fc.uniqueArray(fc.tuple(hostileKey, stamp, fc.boolean()), { maxLength: 12, selector: ([key, s]) => `${key}|${valueOf(s)}` });
    fc.assert(
      fc.property(writes, (history) => {
        const m = lwwMap<string>();
        for (const [key, s, remove] of history) lwwMapSet(m, key, remove ? null : valueOf(s), s);
        const later = (x: Stamp, y: Stamp): boolean => x.t > y.t || (x.t === y.t && (x.id > y.id || (x.id === y.id && x.src > y.src)));
        const winners = new Map<string, [Stamp, boolean]>();
        for (const [key, s, remove] of history) {
          const best = winners.get(key);
          if (!best || later(s, best[0])) winners.set(key, [s, remove]);
        }
        const expected: Record<string, string> = Object.create(null);
        for (const [key, [s, remove]] of [...winners].sort(([a], [b]) => (a < b ? -1 : 1))) if (!remove) expected[key] = valueOf(s);
        expect(canonicalJson(lwwMapValues(m))).toBe(canonicalJson(expected));
        expect(Object.getPrototypeOf(lwwMapValues(m))).toBe(null);
      }),
      runs,
    );
  });
});

describe('top-K against its model', () => {
  it('keeps the K keys with the greatest best scores, ties by key', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(hostileKey, fc.integer({ min: 0, max: 6 })), { maxLength: 20 }), (offers) => {
        const t = topK(3);
        for (const [key, score] of offers) topKOffer(t, key, score);
        const best = new Map<string, number>();
        for (const [key, score] of offers) best.set(key, Math.max(score, best.get(key) ?? -1));
        const expected = [...best].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
        expect(t.items).toEqual(expected);
      }),
      runs,
    );
  });
});

describe('frontier', () => {
  it('compares sequence numbers as integers beyond 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 128n }), fc.bigInt({ min: 0n, max: 1n << 128n }), (a, b) => {
        expect(Math.sign(compareSeq(String(a), String(b))) + 0).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
      runs,
    );
  });
  it('a merge covers both sides, and covering is what advancing promises', () => {
    fc.assert(
      fc.property(front, front, (a, b) => {
        const merged = mergeFrontiers(a, b);
        expect(frontierCovers(merged, a) && frontierCovers(merged, b)).toBe(true);
        expect(frontierCovers(a, merged)).toBe(canonicalJson(mergeFrontiers(a, merged)) === canonicalJson(a));
      }),
      runs,
    );
  });
});

describe('hostile keys', () => {
  it('merging maps keyed __proto__ never touches Object.prototype', () => {
    const a = lwwMap<string>();
    lwwMapSet(a, '__proto__', 'polluted', { t: 1, id: 'e', src: 's' });
    const merged = mergeLwwMaps(a, decodeState(encodeState(a)));
    expect(lwwMapValues(merged)['__proto__']).toBe('polluted');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'v')).toBe(false);
  });
});
