/**
 * Canonical JSON: object keys sorted by plain string order at every depth, no
 * whitespace, `undefined` members left out. Two equal values always give equal text.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}

/** A fresh object with no prototype: any key, `__proto__` included, is plain data on it. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The prototype of `fastDict` objects: empty, without one of its own, and frozen. */
const emptyPrototype: object = Object.freeze(Object.create(null));

/**
 * Like `dict()`, but left in V8's fast-property mode (`Object.create(null)` makes a
 * dictionary): for small objects whose few keys recur, which then share hidden classes and
 * are read without a hash lookup. Its prototype is an empty, frozen object with none of its
 * own, so no key (`__proto__`, `constructor`) is inherited or special: creating one is
 * faster than `Object.setPrototypeOf({}, null)` (docs/benchmarks.md).
 */
export function fastDict<T>(): Record<string, T> {
  return Object.create(emptyPrototype) as Record<string, T>;
}
