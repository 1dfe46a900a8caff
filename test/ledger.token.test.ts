import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import { frontier, mergeFrontiers, type Frontier } from '../crdt/index.js';
import { decodeToken, encodeToken, mergeTokens } from '../ledger/token.js';

const position = fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/), fc.nat(999)).map(([stream, shard]) => `${stream}/${shard}`);
const seq = fc.oneof(fc.nat().map(String), fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String));
const frontiers = fc.dictionary(position, seq, { maxKeys: 8 }).map((entries) => Object.assign(frontier(), entries));

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return error instanceof FoldlineError ? error.code : String(error);
  }
}

describe('tokens', () => {
  it('decode to the frontier they encode, URL-safe', () => {
    fc.assert(
      fc.property(frontiers, (f) => {
        const token = encodeToken(f);
        expect(token).toMatch(/^v1\.[A-Za-z0-9_-]*$/);
        expect({ ...decodeToken(token) }).toEqual({ ...f });
      }),
      { numRuns: 1000 },
    );
  });

  it('encode equal frontiers as equal tokens, whatever the key order', () => {
    const a: Frontier = Object.assign(frontier(), { 'x/0': '5', 'y/1': '12345678901234567890123' });
    const b: Frontier = Object.assign(frontier(), { 'y/1': '12345678901234567890123', 'x/0': '5' });
    expect(encodeToken(a)).toBe(encodeToken(b));
  });

  it('merge as their frontiers merge', () => {
    fc.assert(
      fc.property(frontiers, frontiers, (a, b) => {
        expect({ ...decodeToken(mergeTokens(encodeToken(a), encodeToken(b))) }).toEqual({ ...mergeFrontiers(a, b) });
      }),
      { numRuns: 1000 },
    );
  });

  it('compare seqs as integers when merging', () => {
    const low = encodeToken(Object.assign(frontier(), { 's/0': '99999999999999999999' }));
    const high = encodeToken(Object.assign(frontier(), { 's/0': '100000000000000000000' }));
    expect(decodeToken(mergeTokens(high, low))['s/0']).toBe('100000000000000000000');
  });

  it('refuse malformed tokens with bad_token', () => {
    const encoded = (text: string): string => `v1.${Buffer.from(text).toString('base64url')}`;
    for (const token of ['', 'v2.', 'v1.***', `v1.${'A'.repeat(5000)}`, encoded('s/0'), encoded('s/0=01'), encoded('s/0=-1'), encoded('S/0=1'), encoded('s=1'), encoded('s/0=1,,')]) {
      expect(codeOf(() => decodeToken(token))).toBe('bad_token');
    }
    expect(codeOf(() => mergeTokens(encodeToken(frontier()), 'nonsense'))).toBe('bad_token');
  });

  it('encode the empty frontier', () => {
    expect({ ...decodeToken(encodeToken(frontier())) }).toEqual({});
  });
});
