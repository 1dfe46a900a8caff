import * as Automerge from '@automerge/automerge';
import { Counter, Repo, type AutomergeUrl, type DocHandle } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { BlobStorageAdapter } from '../../gateway/sync/blobStorage.js';
import { MemoryStore } from '../../projections/memoryStore.js';
import type { CartDocument } from '../../retail/cartDocument.js';

/** One edit a device makes to its cart: a change that adds `amount` (or removes, when negative) of a sku. */
export interface CartEdit {
  sku: string;
  amount: number;
}

/** A device's edit as a client developer writes it (docs/offline.md): increment the item's counter, making the item only when there is none. */
export function applyEdit(doc: CartDocument, { sku, amount }: CartEdit): void {
  const item = doc.items[sku];
  if (item) item.quantity.increment(amount);
  else doc.items[sku] = { quantity: new Counter(amount) };
}

/** The counters of a cart document, zeros left out. */
export function cartCounters(doc: CartDocument): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const sku of Object.keys(doc.items).sort()) if (doc.items[sku]!.quantity.value !== 0) counters[sku] = doc.items[sku]!.quantity.value;
  return counters;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A phone with a cart: a stock automerge-repo Repo over its own storage (kept across
 * connections, as IndexedDB keeps a browser's), online only while `online` runs.
 */
export class SimulatedDevice {
  private readonly storage = new BlobStorageAdapter(new MemoryStore());

  constructor(
    private readonly url: AutomergeUrl,
    /** `ws://…/v1/sync`, with `?access_token=` when auth is on (a restarted server may listen elsewhere). */
    public syncUrl: string,
  ) {}

  /** Edits its stored copy with no network: one change per edit. */
  async editOffline(edits: readonly CartEdit[]): Promise<void> {
    const repo = new Repo({ storage: this.storage, network: [] });
    try {
      const handle = await repo.find<CartDocument>(this.url);
      for (const edit of edits) handle.change((doc) => applyEdit(doc, edit));
    } finally {
      await repo.shutdown();
    }
  }

  /** Connects, runs `body` with its handle, and disconnects. */
  async online<T>(body: (handle: DocHandle<CartDocument>) => Promise<T>): Promise<T> {
    const network = new WebSocketClientAdapter(this.syncUrl);
    // The stock adapter throws on any socket error but a refused connection; a phone whose
    // server was killed sees the connection reset, and simply reconnects later.
    Object.assign(network, { onError: () => {} });
    const repo = new Repo({ storage: this.storage, network: [network] });
    try {
      return await body(await repo.find<CartDocument>(this.url));
    } finally {
      // A socket closed while still connecting (the server killed, say) reports an error
      // after the stock adapter dropped its listeners: nothing to report by then.
      (network.socket as unknown as { on?(event: 'error', listener: () => void): void } | undefined)?.on?.('error', () => {});
      await repo.shutdown();
    }
  }

  /** Connects and syncs until its copy has the heads the server's copy has, then disconnects. */
  async sync(serverHeads: () => string[] | undefined): Promise<CartDocument> {
    return this.online((handle) =>
      waitFor('the device and the server to have the same heads', () => {
        const heads = [...Automerge.getHeads(handle.doc())].sort();
        return heads.join() === serverHeads()?.join() ? Automerge.clone(handle.doc()) : undefined;
      }),
    );
  }
}
