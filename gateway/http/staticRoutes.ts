import { createHash } from 'node:crypto';
import type { StaticAsset } from '../types.js';
import type { Answer } from './answer.js';
import type { HttpRoute } from './routes.js';

/**
 * GET and HEAD of each asset at its path, public even with auth on (the page must load to
 * sign in). The paths are not content-hashed, so caches revalidate every time (`no-cache`)
 * and get a 304 while the ETag matches.
 */
export function staticRoutes(assets: ReadonlyMap<string, StaticAsset>): HttpRoute[] {
  return [...assets].flatMap(([path, asset]) => {
    const etag = `"${createHash('sha256').update(asset.body).digest('base64url').slice(0, 27)}"`;
    const answer = (method: 'GET' | 'HEAD', ifNoneMatch: string | undefined): Answer => {
      const headers = { etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
      if (ifNoneMatch !== undefined && matches(ifNoneMatch, etag)) return { status: 304, contentType: asset.contentType, body: '', headers, headOnly: true };
      return { status: 200, contentType: asset.contentType, body: asset.body, headers, headOnly: method === 'HEAD' };
    };
    return (['GET', 'HEAD'] as const).map((method) => ({
      method,
      pattern: path,
      handler: async ({ headers }) => answer(method, headers.get('if-none-match')),
    }));
  });
}

/** If-None-Match: `*` or a list of (possibly weak) entity tags. */
function matches(header: string, etag: string): boolean {
  return header.trim() === '*' || header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}
