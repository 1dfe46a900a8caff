import { join } from 'node:path';
import { EmbeddedSubscriptionStore } from '../subscriptions/embeddedStore.js';
import { MemorySubscriptionStore } from '../subscriptions/memoryStore.js';
import type { SubscriptionStore } from '../subscriptions/types.js';

/**
 * Where a service keeps its webhook subscriptions: `DATA/subscriptions` (LMDB) with a data
 * directory, else memory (a service on other backends, in tests: gone at restart).
 */
export async function openSubscriptionStore(dataDir: string | undefined): Promise<SubscriptionStore> {
  return dataDir === undefined ? new MemorySubscriptionStore() : new EmbeddedSubscriptionStore(join(dataDir, 'subscriptions'));
}
