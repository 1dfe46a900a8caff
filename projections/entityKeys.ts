import type { EntityKeys } from './types.js';

/** The keys of a `keysOf` answer as a list, for code that is not on the fold's hot path. */
export function keyList(keys: EntityKeys): readonly string[] {
  return typeof keys === 'string' ? [keys] : keys;
}
