import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo';
import type { BlobStore } from '../../projections/storeBackend.js';

/**
 * automerge-repo's storage over the state store's blobs (not a second database): its keys,
 * tuples of strings, under one prefix of their own.
 *
 * A document can be sealed: writes and removals of its keys are then ignored. automerge-repo
 * 2.5.6's `removeFromCache` empties the handle's document, and its pending save then stores
 * that empty document as a snapshot and removes the real one; the server seals a document
 * from its last save until that pending save has run (see SyncedDocuments.evict).
 */
export class BlobStorageAdapter implements StorageAdapterInterface {
  private readonly sealed = new Set<string>();

  constructor(
    private readonly store: BlobStore,
    private readonly prefix: readonly string[] = ['automerge'],
  ) {}

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const blob = await this.store.getBlob([...this.prefix, ...key]);
    return blob && plain(blob);
  }

  seal(documentId: string): void {
    this.sealed.add(documentId);
  }

  unseal(documentId: string): void {
    this.sealed.delete(documentId);
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    if (!this.sealed.has(key[0]!)) await this.store.putBlob([...this.prefix, ...key], data);
  }

  async remove(key: StorageKey): Promise<void> {
    if (!this.sealed.has(key[0]!)) await this.store.deleteBlob([...this.prefix, ...key]);
  }

  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    const blobs = await this.store.blobs([...this.prefix, ...keyPrefix]);
    const chunks = blobs.map(({ key, value }) => ({ key: key.slice(this.prefix.length), data: plain(value) }));
    // The interface leaves the order open and automerge-repo applies chunks in any order; its
    // acceptance suite (test/sync.storageAdapter.test.ts) expects them by their last key part.
    return chunks.sort((a, b) => compareText(a.key.at(-1)!, b.key.at(-1)!));
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    if (!this.sealed.has(keyPrefix[0]!)) await this.store.deleteBlobs([...this.prefix, ...keyPrefix]);
  }
}

/** The bytes as a plain Uint8Array (a store may hand out Buffers), without a copy: what automerge-repo's adapter contract promises. */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
