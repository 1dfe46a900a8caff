/*
 * Reads a view token to tell whether a pushed value already reflects a receipt. Tokens are
 * opaque to API users, but this page ships with the server: it mirrors ledger/token.ts —
 * `v1.` then base64url of `stream/shard=seq` pairs joined by `,` — and sequence numbers are
 * decimal strings of any length that compare as integers.
 */

function decodeToken(token) {
  if (typeof token !== 'string' || !token.startsWith('v1.')) return undefined;
  const base64 = token.slice(3).replace(/-/g, '+').replace(/_/g, '/');
  let text;
  try {
    text = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  } catch {
    return undefined;
  }
  const frontier = new Map();
  for (const pair of text.split(',').filter(Boolean)) {
    const at = pair.lastIndexOf('=');
    frontier.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return frontier;
}

function compareSeq(a, b) {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a value carrying `token` reflects every appended event named by `receipts`. */
export function tokenReflects(token, receipts) {
  const frontier = decodeToken(token);
  if (!frontier) return false;
  return receipts.every(({ stream, shard, seq }) => {
    const seen = frontier.get(`${stream}/${shard}`);
    return seen !== undefined && compareSeq(seen, seq) >= 0;
  });
}
