import { FoldlineError } from '../base/errors.js';
import { frontier, frontierAdvance, isSeq, mergeFrontiers, type Frontier } from '../crdt/index.js';

/*
 * A token is an opaque, URL-safe encoding of a frontier: `v1.` then base64url of
 * `stream/shard=seq` pairs joined by `,`, in sorted order so that equal frontiers give
 * equal tokens. Tokens merge by merging their frontiers.
 */
const prefix = 'v1.';
const maxTokenLength = 4096;

export function encodeToken(f: Frontier): string {
  const pairs = Object.keys(f)
    .sort()
    .map((position) => `${position}=${f[position]}`);
  return prefix + Buffer.from(pairs.join(','), 'utf8').toString('base64url');
}

export function decodeToken(token: string): Frontier {
  if (token.length > maxTokenLength || !token.startsWith(prefix) || !/^[A-Za-z0-9_-]*$/.test(token.slice(prefix.length))) {
    throw badToken(token);
  }
  const text = Buffer.from(token.slice(prefix.length), 'base64url').toString('utf8');
  const decoded = frontier();
  if (text === '') return decoded;
  for (const pair of text.split(',')) {
    const match = /^([a-z0-9][a-z0-9._-]*\/(?:0|[1-9][0-9]{0,5}))=(.+)$/.exec(pair);
    if (!match || !isSeq(match[2]!)) throw badToken(token);
    frontierAdvance(decoded, match[1]!, match[2]!);
  }
  return decoded;
}

/** One token covering everything each of `tokens` covers. */
export function mergeTokens(...tokens: string[]): string {
  return encodeToken(mergeFrontiers(...tokens.map(decodeToken)));
}

function badToken(token: string): FoldlineError {
  return new FoldlineError('bad_token', `malformed token ${JSON.stringify(token.slice(0, 64))}`);
}
