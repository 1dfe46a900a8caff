import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { counterSum, type CartsOptions, type PeerCarts } from './carts.js';

/**
 * Hocuspocus's carts: a Yjs document per cart holding a Y.Map of sku → count (one writer,
 * so a count set from the last one read is that sku's counter); a provider with its own
 * socket per subscriber, and a writer whose providers share one socket.
 */
export async function hocuspocusCarts({ url, carts, seen }: CartsOptions): Promise<PeerCarts> {
  const names = Array.from({ length: carts }, (_, i) => `cart-${i}`);
  const subscribers = await Promise.all(
    names.map(async (name, cart) => {
      const provider = attached(new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket }), name);
      const counts = provider.document.getMap<number>('cart');
      counts.observe(() => seen(cart, counterSum(counts.values())));
      await synced(provider);
      return provider;
    }),
  );
  const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket });
  const writers = await Promise.all(
    names.map(async (name) => {
      const provider = attached(socket, name);
      await synced(provider);
      return provider;
    }),
  );
  return {
    add(cart, sku) {
      const counts = writers[cart]!.document.getMap<number>('cart');
      counts.set(sku, (counts.get(sku) ?? 0) + 1);
    },
    async close() {
      for (const provider of [...writers, ...subscribers]) {
        provider.destroy();
        provider.configuration.websocketProvider.destroy();
      }
    },
  };
}

function attached(websocketProvider: HocuspocusProviderWebsocket, name: string): HocuspocusProvider {
  const provider = new HocuspocusProvider({ websocketProvider, name });
  provider.attach();
  return provider;
}

function synced(provider: HocuspocusProvider): Promise<void> {
  return provider.isSynced ? Promise.resolve() : new Promise((resolve) => provider.on('synced', () => resolve()));
}
