import { postEvents } from '../postEvents.js';
import type { CloudEvent } from '../../ledger/types.js';
import { generateEvents } from '../../retail/generator.js';

/** Generated events scanned at most for the catalog: about one in twenty is a product.created. */
const maxScanned = 1_000_000;

/**
 * The first `products` product.created events of the generator's `seed`, verbatim: posting
 * them again to a server that already holds the same generated history only gives duplicates.
 */
export function catalogEvents(seed: number, products: number): CloudEvent[] {
  const created: CloudEvent[] = [];
  const skus = new Set<string>();
  if (products === 0) return created;
  for (const event of generateEvents({ seed, events: maxScanned })) {
    if (event.type !== 'retail.product.created') continue;
    created.push(event);
    skus.add(event.subject);
    if (skus.size >= products) break;
  }
  return created;
}

/** Posts the catalog; resolves with its skus and a token covering it. */
export async function preloadCatalog(url: string, seed: number, products: number, authorization?: string): Promise<{ skus: string[]; token: string }> {
  const events = catalogEvents(seed, products);
  const { token } = await postEvents(url, events, authorization === undefined ? {} : { authorization });
  return { skus: [...new Set(events.map((e) => e.subject))], token };
}
