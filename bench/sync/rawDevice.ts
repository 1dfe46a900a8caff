import * as Automerge from '@automerge/automerge';
import { cbor, interpretAsDocumentId, type AutomergeUrl } from '@automerge/automerge-repo';
import WebSocket from 'ws';

interface CartDoc {
  items?: Record<string, { quantity: Automerge.Counter }>;
}

/**
 * A device of the sync bench: automerge-repo's WebSocket protocol spoken directly (join, then
 * `request`/`sync` messages) over one socket, with an Automerge document and sync state, so
 * that thousands fit in the bench process (a stock Repo each would cost the client more than
 * the server). A change's round trip ends when a server sync message lists its head.
 */
export class RawDevice {
  private socket!: WebSocket;
  private doc: Automerge.Doc<CartDoc> = Automerge.init();
  private syncState = Automerge.initSyncState();
  private serverId = '';
  private readonly peerId: string;
  private readonly documentId: string;
  /** Heads waited for in the server's sync messages. */
  private readonly waiting = new Map<string, () => void>();
  private loaded: (() => void) | undefined;

  constructor(
    private readonly syncUrl: string,
    url: AutomergeUrl,
    index: number,
  ) {
    this.peerId = `bench-device-${index}`;
    this.documentId = interpretAsDocumentId(url);
  }

  /** Opens the socket and joins; resolves once the server answered `peer`. */
  connect(): Promise<void> {
    this.socket = new WebSocket(this.syncUrl);
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.once('open', () => this.send({ type: 'join', senderId: this.peerId, peerMetadata: { isEphemeral: true }, supportedProtocolVersions: ['1'] }));
      this.socket.on('message', (data: Buffer) => {
        const message = cbor.decode(new Uint8Array(data)) as Record<string, any>;
        if (message['type'] === 'peer') {
          this.serverId = message['senderId'];
          resolve();
        } else if (message['type'] === 'sync') this.receive(message['data'] as Uint8Array);
        else if (message['type'] === 'doc-unavailable') reject(new Error(`document ${this.documentId} unavailable`));
      });
    });
  }

  /** Asks for its document; resolves once the document arrived. */
  load(): Promise<void> {
    const [syncState, data] = Automerge.generateSyncMessage(this.doc, this.syncState);
    this.syncState = syncState;
    return new Promise((resolve) => {
      this.loaded = resolve;
      this.send({ type: 'request', senderId: this.peerId, targetId: this.serverId, documentId: this.documentId, data });
    });
  }

  /** Adds one of `sku`; resolves with the milliseconds until the server acknowledged the change. */
  roundTrip(sku: string): Promise<number> {
    const started = performance.now();
    this.doc = Automerge.change(this.doc, (doc) => {
      const item = doc.items![sku];
      if (item) item.quantity.increment(1);
      else doc.items![sku] = { quantity: new Automerge.Counter(1) };
    });
    const [head] = Automerge.getHeads(this.doc);
    const acknowledged = new Promise<number>((resolve) => this.waiting.set(head!, () => resolve(performance.now() - started)));
    this.sendSync();
    return acknowledged;
  }

  close(): void {
    this.socket.close();
  }

  private receive(data: Uint8Array): void {
    const heads = Automerge.decodeSyncMessage(data).heads;
    [this.doc, this.syncState] = Automerge.receiveSyncMessage(this.doc, this.syncState, data);
    this.sendSync();
    if (this.loaded && this.doc.items !== undefined) {
      this.loaded();
      this.loaded = undefined;
    }
    for (const head of heads) {
      this.waiting.get(head)?.();
      this.waiting.delete(head);
    }
  }

  private sendSync(): void {
    const [syncState, data] = Automerge.generateSyncMessage(this.doc, this.syncState);
    this.syncState = syncState;
    if (data) this.send({ type: 'sync', senderId: this.peerId, targetId: this.serverId, documentId: this.documentId, data });
  }

  private send(message: Record<string, unknown>): void {
    this.socket.send(cbor.encode(message));
  }
}
