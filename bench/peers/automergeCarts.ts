import { Counter } from '@automerge/automerge';
import { Repo, type DocHandle } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { counterSum, type CartsOptions, type PeerCarts } from './carts.js';

interface Cart {
  cart: Record<string, Counter>;
}

/**
 * automerge-repo's carts: an Automerge document per cart with a Counter per sku; the writer's
 * repo creates them, and each subscriber is a repo of its own (one socket each) that finds
 * its cart through the sync server.
 */
export async function automergeCarts({ url, carts, seen }: CartsOptions): Promise<PeerCarts> {
  const writer = new Repo({ network: [new WebSocketClientAdapter(url)] });
  const handles: Array<DocHandle<Cart>> = Array.from({ length: carts }, () => writer.create<Cart>({ cart: {} }));
  const subscribers = await Promise.all(
    handles.map(async (created, cart) => {
      const repo = new Repo({ network: [new WebSocketClientAdapter(url)] });
      const handle = await found(repo, created);
      handle.on('change', ({ doc }) => seen(cart, counterSum(Object.values(doc.cart).map((counter) => counter.value))));
      return repo;
    }),
  );
  return {
    add(cart, sku) {
      handles[cart]!.change((doc) => {
        const counter = doc.cart[sku];
        if (counter) counter.increment(1);
        else doc.cart[sku] = new Counter(1);
      });
    },
    async close() {
      await Promise.all([writer, ...subscribers].map((repo) => repo.shutdown()));
    },
  };
}

/** The subscriber's handle of a cart: asked again while the server has not heard of it from the writer yet. */
async function found(repo: Repo, created: DocHandle<Cart>): Promise<DocHandle<Cart>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await repo.find<Cart>(created.url);
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
