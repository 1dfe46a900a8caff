import type { CpuTimes } from '../../base/threadCpu.js';
import type { CloudEvent } from '../../ledger/types.js';
import { preloadCatalog } from '../../client/load/catalog.js';
import { LiveConnection } from '../../client/load/liveConnection.js';
import { defaultLimits } from '../../gateway/types.js';
import { sources } from '../../retail/trafficDraft.js';
import type { CartsOptions, PeerCarts } from './carts.js';

const timeoutMs = 10_000;

/**
 * foldline's carts: the retail `cart` view of a customer per cart (a PN counter per sku,
 * joined with the catalog), a subscriber socket per cart and a writer socket appending one
 * `retail.cart.item-added` per add.
 */
export async function foldlineCarts({ url, carts, skus, seen, failed }: CartsOptions): Promise<PeerCarts> {
  const { token } = await preloadCatalog(url, 1, skus.length);
  const customers = Array.from({ length: carts }, (_, i) => `c-peers-${i}`);
  const subscribers = await Promise.all(
    customers.map(async (customerId, cart) => {
      let first!: () => void;
      const subscribed = new Promise<void>((resolve) => (first = resolve));
      const socket = await LiveConnection.open(url, {
        timeoutMs,
        onError: failed,
        onPush: (push) => {
          seen(cart, (push.value as { itemCount: number }).itemCount);
          first();
        },
      });
      socket.subscribe('cart', customerId, token);
      await subscribed;
      return socket;
    }),
  );
  const writer = await LiveConnection.open(url, { timeoutMs, onError: failed, onPush: () => {} });
  // The writer keeps to the server's limit of appends in flight per connection, as a client
  // should: past it, an add waits for an answer (its latency counts from when it was due).
  const waiting: CloudEvent[] = [];
  let inFlight = 0;
  const send = (event: CloudEvent): void => {
    inFlight++;
    writer
      .append([event])
      .catch(failed)
      .finally(() => {
        inFlight--;
        const next = waiting.shift();
        if (next) send(next);
      });
  };
  let events = 0;
  return {
    add(cart, sku) {
      const customerId = customers[cart]!;
      const event: CloudEvent = {
        specversion: '1.0',
        id: `peers-${++events}`,
        source: sources.web,
        type: 'retail.cart.item-added',
        time: new Date().toISOString(),
        subject: customerId,
        data: { customerId, sku, quantity: 1 },
      };
      if (inFlight < defaultLimits.maxPendingAppends) send(event);
      else waiting.push(event);
    },
    async namedThreads() {
      const text = await (await fetch(new URL('/metrics', url))).text();
      const threads: Record<string, CpuTimes> = {};
      for (const [, thread, mode, seconds] of text.matchAll(/^foldline_thread_cpu_seconds\{thread="([^"]+)",mode="(user|system)"\} (\S+)$/gm)) {
        (threads[thread!] ??= { user: 0, system: 0 })[mode as keyof CpuTimes] = Number(seconds);
      }
      return threads;
    },
    async close() {
      await Promise.all([writer, ...subscribers].map((socket) => socket.close()));
    },
  };
}
