/**
 * One string map key for a pair of names, such as an entity (projection, key) or a view key
 * (view, key). The first name never holds NUL (projection and view names are checked), so
 * distinct pairs give distinct strings whatever the second holds.
 */
export function pairKey(first: string, second: string): string {
  return `${first}\u0000${second}`;
}

/** The two names of a pair key. */
export function splitPairKey(id: string): [first: string, second: string] {
  const at = id.indexOf('\u0000');
  return [id.slice(0, at), id.slice(at + 1)];
}
