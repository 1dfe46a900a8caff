/*
 * The cart as the customer's Automerge document, kept in the browser (docs/offline.md, "The
 * storefront's offline switch"): a stock automerge-repo Repo over IndexedDB, synced over
 * `/v1/sync` while online. Offline, edits are changes of the stored copy only; they sync when
 * the page goes online again, even after the tab was closed. An edit is *pending* until the
 * server's heads (the repo's sync info about the server) include its change, then *synced*.
 */

const databaseName = 'foldline';
/** Per tab, like the session: a reload stays offline, a new tab starts online. */
const offlineKey = 'foldline.offline';
/** A cart's URL never changes, and an offline reload must find the document without the server. */
const documentUrlKey = (customerId) => `foldline.cart-document.${customerId}`;
/** The server's heads as last heard: after an offline reload they tell pending edits from synced ones. */
const serverHeadsKey = (documentUrl) => `foldline.cart-synced.${documentUrl}`;
/** The server's own changes (the ledger's events brought into the document) are never a device's edits. */
const serverChangeMessage = 'foldline:ledger';
/** Synced edits shown beside the pending ones. */
const shownSynced = 8;

export const savedOffline = () => sessionStorage.getItem(offlineKey) === 'true';

function storedJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/** The edit a change of this page describes in its message (`{sku, amount}`), null for any other change. */
function editOf(change) {
  if (change.message === null || change.message === serverChangeMessage) return null;
  try {
    const { sku, amount } = JSON.parse(change.message);
    return typeof sku === 'string' && Number.isInteger(amount) ? { hash: change.hash, sku, amount } : null;
  } catch {
    return null;
  }
}

/**
 * One customer's cart document in this browser. `onChange(snapshot)` fires whenever what the
 * page shows may have changed; the snapshot is
 * `{status, offline, error?, edits: [{hash, sku, amount, state}]}` with status 'loading' |
 * 'unavailable' | 'offline' | 'connecting' | 'syncing' | 'synced' and an edit's state 'saving'
 * (not yet in IndexedDB) | 'pending' (on this device only) | 'synced' (the server has it).
 */
export class OfflineCart {
  #syncUrl;
  #onChange;
  #offline;
  #lib = null;
  #repo = null;
  #handle = null;
  #adapter = null;
  #serverHeads = [];
  #connected = false;
  /** Edits whose change is not yet saved in IndexedDB, by hash. */
  #saving = new Set();
  /** Every edit this page has shown, oldest first: synced ones stay listed once they leave the pending set. */
  #shown = new Map();
  #status = 'loading';
  #error = undefined;
  #closed = false;

  constructor({ syncUrl, onChange }) {
    this.#syncUrl = syncUrl;
    this.#onChange = onChange;
    this.#offline = savedOffline();
  }

  /** Loads automerge-repo and finds the document (`documentUrl()` answers its URL when none is stored). */
  async open(customerId, documentUrl) {
    try {
      this.#lib = await import('automerge-repo');
      const url = storedJson(documentUrlKey(customerId)) ?? (await documentUrl());
      localStorage.setItem(documentUrlKey(customerId), JSON.stringify(url));
      if (this.#closed) return;
      this.#serverHeads = storedJson(serverHeadsKey(url)) ?? [];
      this.#repo = new this.#lib.Repo({ storage: new this.#lib.IndexedDBStorageAdapter(databaseName), network: [] });
      this.#repo.networkSubsystem.on('peer', () => this.#setConnected(true));
      this.#repo.networkSubsystem.on('peer-disconnected', () => this.#setConnected(false));
      if (!this.#offline) this.#connect();
      // Never repo.create: the server's copy starts from a fixed first change (docs/offline.md).
      this.#handle = await this.#repo.find(url);
      this.#handle.on('change', () => this.#notify());
      this.#handle.on('remote-heads', ({ heads }) => {
        this.#serverHeads = this.#lib.decodeHeads(heads);
        localStorage.setItem(serverHeadsKey(url), JSON.stringify(this.#serverHeads));
        this.#notify();
      });
      this.#status = 'ready';
    } catch (error) {
      // Without the document the page can only write online.
      this.#status = 'unavailable';
      this.#offline = false;
      this.#error = error.message;
    }
    this.#notify();
  }

  get ready() {
    return this.#status === 'ready';
  }

  /** The switch: offline drops the sync socket, online opens a new one and syncs what is pending. */
  setOffline(offline) {
    if (!this.ready || offline === this.#offline) return;
    this.#offline = offline;
    sessionStorage.setItem(offlineKey, String(offline));
    if (offline) {
      this.#repo.networkSubsystem.removeNetworkAdapter(this.#adapter);
      this.#adapter = null;
    } else {
      this.#connect();
    }
    this.#notify();
  }

  /** Adds `amount` of `sku` (removes, when negative) as one change, and saves it in IndexedDB. */
  async edit(sku, amount) {
    if (!this.ready) return;
    const { Counter, Automerge } = this.#lib;
    this.#handle.change(
      (doc) => {
        // Increment what is there; make an item only when there is none (docs/offline.md).
        if (doc.items[sku]) doc.items[sku].quantity.increment(amount);
        else doc.items[sku] = { quantity: new Counter(amount) };
      },
      { message: JSON.stringify({ sku, amount }) },
    );
    // A local change depends on every head there was: it is now the only one.
    const [hash] = Automerge.getHeads(this.#handle.doc());
    this.#saving.add(hash);
    this.#notify();
    try {
      await this.#repo.flush([this.#handle.documentId]);
    } finally {
      this.#saving.delete(hash);
      this.#notify();
    }
  }

  snapshot() {
    const status = !this.ready ? this.#status : this.#offline ? 'offline' : !this.#connected ? 'connecting' : undefined;
    const pending = this.ready ? this.#pendingEdits() : [];
    const pendingHashes = new Set(pending.map(({ hash }) => hash));
    for (const edit of pending) this.#shown.set(edit.hash, edit);
    const stateOf = ({ hash }) => (this.#saving.has(hash) ? 'saving' : pendingHashes.has(hash) ? 'pending' : 'synced');
    // The oldest synced edits leave the list first.
    let syncedToDrop = [...this.#shown.values()].filter((edit) => stateOf(edit) === 'synced').length - shownSynced;
    for (const edit of this.#shown.values()) if (syncedToDrop > 0 && stateOf(edit) === 'synced' && syncedToDrop--) this.#shown.delete(edit.hash);
    return {
      status: status ?? (pending.length > 0 ? 'syncing' : 'synced'),
      offline: this.#offline,
      error: this.#error,
      edits: [...this.#shown.values()].map((edit) => ({ ...edit, state: stateOf(edit) })),
    };
  }

  close() {
    this.#closed = true;
    // Shutting down saves what is not saved yet.
    void this.#repo?.shutdown();
  }

  /** This page's edits whose changes the server's last known heads do not include. */
  #pendingEdits() {
    const { Automerge } = this.#lib;
    const doc = this.#handle.doc();
    // Heads the server made after this copy last synced are unknown here: what they include comes with them.
    const known = this.#serverHeads.filter((hash) => Automerge.hasHeads(doc, [hash]));
    return Automerge.getChangesSince(doc, known).map((change) => editOf(Automerge.decodeChange(change))).filter((edit) => edit !== null);
  }

  #connect() {
    this.#adapter = new this.#lib.BrowserWebSocketClientAdapter(this.#syncUrl);
    this.#repo.networkSubsystem.addNetworkAdapter(this.#adapter);
  }

  #setConnected(connected) {
    this.#connected = connected;
    this.#notify();
  }

  #notify() {
    if (!this.#closed) this.#onChange(this.snapshot());
  }
}
