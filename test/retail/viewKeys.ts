import type { CloudEvent } from '../../ledger/types.js';

/** Every view key a set of retail events can give a value for, as sorted [view, key] pairs. */
export function viewKeysOf(events: Iterable<CloudEvent>): Array<[string, string]> {
  const keys = new Set<string>();
  const add = (view: string, key: unknown): void => {
    if (typeof key === 'string') keys.add(JSON.stringify([view, key]));
  };
  for (const { data } of events) {
    add('product', data['sku']);
    add('catalog', data['category']);
    add('sales-by-shade', data['category']);
    add('cart', data['customerId']);
    add('recently-viewed', data['customerId']);
    add('leaderboard', data['store']);
    for (const line of (data['lines'] ?? []) as Array<{ sku: string }>) add('product', line.sku);
  }
  return [...keys].sort().map((k) => JSON.parse(k) as [string, string]);
}
