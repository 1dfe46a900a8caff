import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frontierHas, positionKey, type Frontier } from '../crdt/index.js';
import { encodeToken } from '../ledger/token.js';
import { bundledModules, storefrontAssets } from '../retail/storefront/assets.js';
import { tokenReflects } from '../retail/storefront/tokens.js';

/*
 * The storefront page is static browser code; what Node can check is that the asset map
 * serves every file the page asks for, and that the page reads tokens the way the ledger
 * writes them (it decides "confirmed" from them).
 */

const assets = await storefrontAssets();
const text = (path: string): string => assets.get(path)!.body.toString('utf8');

describe('storefront assets', () => {
  it('serve the page at / and its scripts and styles with their content types', () => {
    expect(assets.get('/')?.contentType).toBe('text/html; charset=utf-8');
    expect(assets.get('/assets/app.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(assets.get('/assets/style.css')?.contentType).toBe('text/css; charset=utf-8');
    for (const path of assets.keys()) expect(path === '/' || path.startsWith('/assets/')).toBe(true);
  });

  it('include every file the page references, its import map targets and every module import', () => {
    const html = text('/');
    const importMap = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!) as { imports: Record<string, string> };
    const referenced = [...html.matchAll(/(?:src|href)="(\/[^"]*)"/g)].map((match) => match[1]!);
    expect(referenced).toEqual(expect.arrayContaining(['/assets/app.js', '/assets/style.css']));
    const missing = referenced.filter((path) => !assets.has(path));
    for (const [path, asset] of assets) {
      // A bundle imports nothing, and its minified text is no place to look for import statements.
      if (!asset.contentType.startsWith('text/javascript') || path in bundledModules) continue;
      for (const [, specifier] of text(path).matchAll(/(?:\bfrom\s*|\bimport\s*)["']([^"']+)["']/g)) {
        const target = specifier!.startsWith('.') ? new URL(specifier!, `http://page${path}`).pathname : importMap.imports[specifier!];
        if (target === undefined || !assets.has(target)) missing.push(`${path} imports ${specifier}`);
      }
    }
    expect(missing).toEqual([]);
    expect(Object.values(importMap.imports).every((path) => assets.has(path))).toBe(true);
  });
});

describe('tokenReflects (the page) against encodeToken and frontierHas (the ledger)', () => {
  const streams = ['customer', 'product', 'sales.v2-x'];
  // Small seqs collide often (equal, one above, one below); long ones pass 2^53.
  const seq = fc.oneof(fc.integer({ min: 0, max: 12 }).map(String), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String));
  const position = fc.record({ stream: fc.constantFrom(...streams), shard: fc.constantFrom(0, 1, 999_999) });
  const frontierArb = fc.array(fc.tuple(position, seq), { maxLength: 8 }).map((entries) => {
    const frontier: Frontier = {};
    for (const [{ stream, shard }, s] of entries) frontier[positionKey(stream, shard)] = s;
    return frontier;
  });
  const receipts = fc.array(fc.record({ stream: fc.constantFrom(...streams), shard: fc.constantFrom(0, 1, 999_999), seq }), { maxLength: 4 });

  it('a value reflects receipts exactly when its frontier has every receipt position', () => {
    fc.assert(
      fc.property(frontierArb, receipts, (frontier, batch) => {
        const expected = batch.every((r) => frontierHas(frontier, positionKey(r.stream, r.shard), r.seq));
        expect(tokenReflects(encodeToken(frontier), batch)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('a token of an unknown format reflects nothing', () => {
    expect(tokenReflects('v2.whatever', [{ stream: 'customer', shard: 0, seq: '1' }])).toBe(false);
  });
});
