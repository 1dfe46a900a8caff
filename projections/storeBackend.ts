import type { StateStore } from './types.js';

/** What a state store adapter promises; the contract suite checks every capability it claims. */
export interface StoreCapabilities {
  /** A commit survives the process being killed, and a reopen finds it. */
  readonly durable: boolean;
  /**
   * A commit lands whole or not at all. Without it the store writes dead letters first and
   * the checkpoint last, and entity frontiers make folding a partly stored window again harmless.
   */
  readonly atomicCommit: boolean;
}

/**
 * A store that one thread reads while another commits to it, whose reads keep a snapshot:
 * the reader renews it when told of the other's commits.
 */
export interface ReadRenewal {
  renewReads(): void;
}

/**
 * Opaque bytes by tuple key beside the entity state, for what keeps its own format (the
 * synced documents' automerge-repo storage): an optional capability of a store. A key is a
 * tuple of strings; a prefix names every key that starts with its components.
 */
export interface BlobStore {
  getBlob(key: readonly string[]): Promise<Uint8Array | undefined>;
  /** Every blob whose key starts with `prefix`, in key order. */
  blobs(prefix: readonly string[]): Promise<Array<{ key: string[]; value: Uint8Array }>>;
  putBlob(key: readonly string[], value: Uint8Array): Promise<void>;
  /** Removes the blob of exactly this key. */
  deleteBlob(key: readonly string[]): Promise<void>;
  /** Removes every blob whose key starts with `prefix`. */
  deleteBlobs(prefix: readonly string[]): Promise<void>;
}

export function hasBlobs(store: object): store is BlobStore {
  return typeof (store as Partial<BlobStore>).getBlob === 'function';
}

/**
 * A state store adapter as a module loaded by URL (see LedgerBackend): the module exports it
 * as `storeBackend`. Each thread that uses the store opens it with the same plain-data config.
 */
export interface StoreBackend<Config = unknown> {
  readonly capabilities: StoreCapabilities;
  open(config: Config): Promise<StateStore & Partial<ReadRenewal> & Partial<BlobStore>>;
}
