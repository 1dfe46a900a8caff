import type { CpuTimes } from '../../base/threadCpu.js';

/** The systems the peers suite compares, each serving one live document or view per cart. */
export const peerSystems = ['foldline', 'hocuspocus', 'automerge-repo'] as const;
export type PeerSystem = (typeof peerSystems)[number];

/**
 * The clients of one system: a subscriber per cart, each on its own connection, and one
 * writer connected to every cart. `seen` hears of each value a subscriber receives, as the
 * sum of its cart's counters (adds are of 1, so the n-th add of a cart is seen once that sum
 * reaches n).
 */
export interface PeerCarts {
  /** One add of 1 to `sku`'s counter of cart `cart`, sent by the writer. */
  add(cart: number, sku: string): void;
  /** The CPU times of the server's threads it names itself, where it does (foldline's metrics). */
  namedThreads?(): Promise<Record<string, CpuTimes>>;
  close(): Promise<void>;
}

export interface CartsOptions {
  url: string;
  carts: number;
  /** The skus adds draw from (the catalog foldline's carts join). */
  skus: readonly string[];
  seen(cart: number, total: number): void;
  /** Failed writes and error frames. */
  failed(error: unknown): void;
}

/** Sums a cart's counters, whatever holds them. */
export function counterSum(values: Iterable<unknown>): number {
  let sum = 0;
  for (const value of values) sum += Number(value);
  return sum;
}
