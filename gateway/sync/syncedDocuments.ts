import * as Automerge from '@automerge/automerge';
import { Repo, type AutomergeUrl, type DocHandle, type DocumentId, type PeerId } from '@automerge/automerge-repo';
import type { Logger } from 'pino';
import { LruCache } from '../../base/lruCache.js';
import type { Ledger } from '../../ledger/types.js';
import type { BlobStore } from '../../projections/storeBackend.js';
import type { AccessGuard } from '../auth/guard.js';
import type { GatewayViews, Principal, ValidateEvents } from '../types.js';
import { BlobStorageAdapter } from './blobStorage.js';
import { documentIdOf, documentUrlOf } from './documentIds.js';
import { LedgerMirror, ledgerChangeMessage } from './ledgerMirror.js';
import { RepoNetwork, SocketNetwork, type SyncPeer } from './socketNetwork.js';
import type { DocumentMapping } from './types.js';

export interface SyncedDocumentsOptions {
  mapping: DocumentMapping;
  /** Where documents are kept: the state store's blobs. */
  store: BlobStore;
  ledger: Ledger;
  validate: ValidateEvents;
  views: GatewayViews;
  guard: AccessGuard;
  logger: Logger;
  /** How long a document stays loaded after its last device left. */
  idleMs?: number;
  /** Repos the documents are spread over (by id): each sees only the devices of its own documents. */
  repos?: number;
}

/** Where automerge-repo keeps documents, and which view key each document id names. */
const storagePrefix = ['automerge'];
const keyPrefix = ['synced-document-keys'];
/** How long automerge-repo waits before saving a changed document. */
const saveDebounceMs = 100;
/** The actor of every document's first change: the same bytes wherever it is made. */
const initialActor = '666f6c646c696e65';
const serverPeerId = 'foldline' as PeerId;
const defaultRepos = 64;

interface LoadedDocument {
  ready: Promise<LedgerMirror>;
  /** Set once ready. */
  mirror?: LedgerMirror;
  peers: Set<SyncPeer>;
  idle?: NodeJS.Timeout;
}

/**
 * The server's synced documents (docs/offline.md): automerge-repo Repos whose network is
 * the `/v1/sync` sockets and whose storage is the state store's blobs, each document in the
 * repo its id picks (see RepoNetwork for why there are several). A document is loaded
 * when a device that may read its view key first syncs it, mirrors the ledger while loaded
 * (LedgerMirror), and is saved and dropped once no device has used it for `idleMs`.
 */
export class SyncedDocuments {
  readonly network: SocketNetwork;
  private readonly repos: Repo[] = [];
  private readonly networks: RepoNetwork[] = [];
  private readonly storage: BlobStorageAdapter;
  private readonly loaded = new Map<DocumentId, LoadedDocument>();
  /** Evictions under way: a document is loaded again only once its eviction is done. */
  private readonly evicting = new Map<DocumentId, Promise<void>>();
  private readonly keys = new LruCache<DocumentId, string>(10_000);
  private readonly initial: Uint8Array;
  private readonly idleMs: number;

  constructor(private readonly options: SyncedDocumentsOptions) {
    this.idleMs = options.idleMs ?? 30_000;
    this.storage = new BlobStorageAdapter(options.store, storagePrefix);
    for (let i = 0; i < (options.repos ?? defaultRepos); i++) {
      const network = new RepoNetwork();
      this.networks.push(network);
      this.repos.push(
        new Repo({
          network: [network],
          storage: this.storage,
          saveDebounceRate: saveDebounceMs,
          peerId: serverPeerId,
          // A server shares a document only with the peers that asked for it, once admitted.
          shareConfig: { announce: async () => false, access: async (peer, id) => this.mayAccess(peer, id) },
        }),
      );
    }
    this.network = new SocketNetwork(serverPeerId, () => this.networks[0]!.peerMetadata ?? {}, (id) => this.networks[this.shardOf(id)]!, (peer, id) => this.admit(peer, id), (peer) => this.left(peer), options.logger);
    this.initial = Automerge.save(Automerge.change(Automerge.init({ actor: initialActor }), { message: ledgerChangeMessage, time: 0 }, options.mapping.initial));
  }

  /** The automerge URL of a view key's document, for a principal who may read the key. */
  async urlOf(principal: Principal | undefined, key: string): Promise<AutomergeUrl> {
    const { mapping, views, guard, store } = this.options;
    views.checkViewKey(mapping.view, key);
    guard.checkRead(principal, mapping.view, key);
    const url = documentUrlOf(mapping.view, key);
    const id = documentIdOf(url);
    if (this.keys.get(id) === undefined) {
      if ((await store.getBlob([...keyPrefix, id])) === undefined) await store.putBlob([...keyPrefix, id], Buffer.from(key));
      this.keys.set(id, key);
    }
    return url;
  }

  /** The heads of a document's server copy while it is loaded (hex change hashes, sorted). */
  heads(url: AutomergeUrl): string[] | undefined {
    return this.loaded.get(documentIdOf(url))?.mirror?.heads();
  }

  /** Documents loaded now. */
  get loadedCount(): number {
    return this.loaded.size;
  }

  async close(): Promise<void> {
    for (const document of this.loaded.values()) {
      clearTimeout(document.idle);
      void document.ready.then((mirror) => mirror.close(), () => {});
    }
    await Promise.all(this.evicting.values());
    await Promise.all(this.repos.map((repo) => repo.shutdown()));
  }

  private shardOf(id: DocumentId): number {
    let hash = 0;
    for (let i = 0; i < id.length; i++) hash = (Math.imul(hash, 31) + id.charCodeAt(i)) | 0;
    return (hash >>> 0) % this.repos.length;
  }

  private repoOf(id: DocumentId): Repo {
    return this.repos[this.shardOf(id)]!;
  }

  private async keyOf(id: DocumentId): Promise<string | undefined> {
    const known = this.keys.get(id);
    if (known !== undefined) return known;
    const stored = await this.options.store.getBlob([...keyPrefix, id]);
    if (stored === undefined) return undefined;
    const key = Buffer.from(stored).toString();
    this.keys.set(id, key);
    return key;
  }

  /** Lets a peer sync a document if its principal may read the document's view key, and loads it. */
  private async admit(peer: SyncPeer, id: DocumentId): Promise<boolean> {
    const key = await this.keyOf(id);
    if (key === undefined) return false;
    try {
      this.options.guard.checkRead(peer.principal, this.options.mapping.view, key);
    } catch {
      return false;
    }
    const document = await this.open(id, key);
    await document.ready;
    if (peer.closed) {
      if (document.peers.size === 0) this.scheduleEviction(id, document);
      return false;
    }
    peer.documents.add(id);
    document.peers.add(peer);
    return true;
  }

  private mayAccess(peerId: PeerId, id: DocumentId): boolean {
    const document = this.loaded.get(id);
    return document !== undefined && [...document.peers].some((peer) => peer.id === peerId);
  }

  private async open(id: DocumentId, key: string): Promise<LoadedDocument> {
    await this.evicting.get(id);
    let document = this.loaded.get(id);
    if (!document) {
      const loading: LoadedDocument = { ready: this.load(id, key), peers: new Set() };
      this.loaded.set(id, loading);
      loading.ready.then(
        (mirror) => (loading.mirror = mirror),
        () => {
          if (this.loaded.get(id) === loading) this.loaded.delete(id);
        },
      );
      document = loading;
    }
    clearTimeout(document.idle);
    return document;
  }

  private async load(id: DocumentId, key: string): Promise<LedgerMirror> {
    const { mapping, ledger, validate, views, logger } = this.options;
    const keys = (await this.options.store.blobs([...storagePrefix, id])).map(({ key }) => key[storagePrefix.length + 1]);
    let handle: DocHandle<unknown>;
    if (keys.includes('snapshot') || keys.includes('incremental')) handle = await this.repoOf(id).find(id);
    else {
      // Killed before its first save: what peers' sync states say it shares is not there.
      await this.storage.removeRange([id, 'sync-state']);
      // Every copy of a new document starts from the same first change (see initialActor).
      handle = this.repoOf(id).import(this.initial, { docId: id });
      handle.doneLoading();
    }
    const mirror = new LedgerMirror(handle, key, { mapping, ledger, validate, views, logger, retryMs: 1000 });
    await mirror.start();
    return mirror;
  }

  private left(peer: SyncPeer): void {
    for (const id of peer.documents) {
      const document = this.loaded.get(id);
      if (!document) continue;
      document.peers.delete(peer);
      if (document.peers.size === 0) this.scheduleEviction(id, document);
    }
  }

  private scheduleEviction(id: DocumentId, document: LoadedDocument): void {
    clearTimeout(document.idle);
    document.idle = setTimeout(() => {
      if (this.loaded.get(id) !== document || document.peers.size > 0) return;
      this.loaded.delete(id);
      const eviction = this.evict(id, document).finally(() => this.evicting.delete(id));
      this.evicting.set(id, eviction);
    }, this.idleMs);
    document.idle.unref();
  }

  /** Saves a document and drops it; loading it again waits until this is done. */
  private async evict(id: DocumentId, document: LoadedDocument): Promise<void> {
    try {
      (await document.ready).close();
      await this.repoOf(id).flush([id]);
      // Past this save, what automerge-repo writes of it is the emptied handle (see BlobStorageAdapter).
      this.storage.seal(id);
      await this.repoOf(id).removeFromCache(id);
      await new Promise((resolve) => setTimeout(resolve, 2 * saveDebounceMs));
    } catch (error) {
      this.options.logger.error({ err: error, document: id }, 'evicting a synced document failed');
    } finally {
      this.storage.unseal(id);
    }
  }
}
