import { cbor, NetworkAdapter, type DocumentId, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo';
import type { Logger } from 'pino';
import type { Principal } from '../types.js';

/** The part of a uWebSockets.js WebSocket a sync peer uses. */
export interface SyncSocket {
  send(message: Uint8Array, isBinary: boolean): number;
  end(code: number, reason: string): void;
}

/** automerge-repo's WebSocket protocol version (automerge-repo-network-websocket's ProtocolV1). */
const protocolVersion = '1';
/** The repo messages about a document that a device may send; the others (remote heads gossip) are not relayed. */
const documentMessages: ReadonlySet<string> = new Set(['sync', 'request', 'doc-unavailable', 'ephemeral']);

/** One device's socket: the peer id the repo knows it by, and the documents it was let sync. */
export class SyncPeer {
  /** The id the device gave in its join message: it is answered under it. */
  remoteId: PeerId | undefined;
  readonly documents = new Set<DocumentId>();
  closed = false;
  /** Its messages are handed to the repo in the order they came, each after its document's admission. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    /** The server's own id for it: a device cannot speak as another by naming its id. */
    readonly id: PeerId,
    readonly socket: SyncSocket,
    readonly principal: Principal | undefined,
  ) {}

  enqueue(task: () => Promise<void>, logger: Logger): void {
    this.tail = this.tail.then(task).catch((error: unknown) => logger.error({ err: error, peer: this.id }, 'sync message failed'));
  }
}

/** Decides whether a peer may sync a document (and loads it); false answers the peer `doc-unavailable`. */
export type AdmitDocument = (peer: SyncPeer, documentId: DocumentId) => Promise<boolean>;

/**
 * automerge-repo's network side of `/v1/sync`: the WebSocket protocol of
 * automerge-repo-network-websocket (CBOR messages; a device joins, the server answers
 * `peer`) over uWebSockets.js sockets, so a stock client adapter syncs with it. automerge-repo
 * has no auth: a message about a document reaches the repo only once `admit` let the peer
 * sync it, and the repo's messages reach a peer only for documents it was let sync.
 */
export class SocketNetwork extends NetworkAdapter {
  private readonly peers = new Map<PeerId, SyncPeer>();
  private nextPeer = 0;

  constructor(
    private readonly admit: AdmitDocument,
    private readonly left: (peer: SyncPeer) => void,
    private readonly logger: Logger,
  ) {
    super();
  }

  isReady(): boolean {
    return true;
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata ?? {};
  }

  disconnect(): void {
    for (const peer of [...this.peers.values()]) {
      try {
        peer.socket.end(1001, 'server shutting down');
      } catch {
        // Closed with the server already: its close handler runs (or ran) `closed`.
      }
    }
  }

  /** A socket was opened: a peer that must join first. */
  opened(socket: SyncSocket, principal: Principal | undefined): SyncPeer {
    return new SyncPeer(`device-${++this.nextPeer}` as PeerId, socket, principal);
  }

  /** A message from the socket; `bytes` is valid only during the call (uWebSockets.js reuses it). */
  receive(peer: SyncPeer, bytes: ArrayBuffer): void {
    let message: Record<string, unknown>;
    try {
      // Copied: decoded byte strings may be views of the buffer, and messages wait for admission.
      message = cbor.decode(new Uint8Array(bytes.slice(0))) as Record<string, unknown>;
    } catch {
      peer.socket.end(1007, 'messages must be CBOR');
      return;
    }
    if (typeof message !== 'object' || message === null || typeof message['type'] !== 'string') {
      peer.socket.end(1007, 'messages must be automerge-repo messages');
      return;
    }
    if (peer.remoteId === undefined) this.join(peer, message);
    else this.relay(peer, message);
  }

  /** The socket closed: the repo forgets the peer. */
  closed(peer: SyncPeer): void {
    if (peer.closed) return;
    peer.closed = true;
    if (this.peers.delete(peer.id)) this.emit('peer-disconnected', { peerId: peer.id });
    this.left(peer);
  }

  send(message: Message): void {
    const peer = this.peers.get(message.targetId);
    if (!peer || peer.closed) return;
    if (message.documentId !== undefined && !peer.documents.has(message.documentId)) return;
    this.sendTo(peer, { ...message, targetId: peer.remoteId });
  }

  private join(peer: SyncPeer, message: Record<string, unknown>): void {
    const versions = message['supportedProtocolVersions'];
    if (message['type'] !== 'join' || typeof message['senderId'] !== 'string') {
      peer.socket.end(1008, 'a peer must join first');
      return;
    }
    peer.remoteId = message['senderId'] as PeerId;
    if (Array.isArray(versions) && !versions.includes(protocolVersion)) {
      this.sendTo(peer, { type: 'error', senderId: this.peerId, message: 'unsupported protocol version', targetId: peer.remoteId });
      peer.socket.end(1002, 'unsupported protocol version');
      return;
    }
    this.peers.set(peer.id, peer);
    const metadata = message['peerMetadata'];
    this.emit('peer-candidate', { peerId: peer.id, peerMetadata: typeof metadata === 'object' && metadata !== null ? (metadata as PeerMetadata) : {} });
    this.sendTo(peer, { type: 'peer', senderId: this.peerId, peerMetadata: this.peerMetadata, selectedProtocolVersion: protocolVersion, targetId: peer.remoteId });
  }

  private relay(peer: SyncPeer, message: Record<string, unknown>): void {
    const documentId = message['documentId'];
    if (typeof documentId !== 'string' || !documentMessages.has(message['type'] as string)) return;
    const relayed = { ...message, senderId: peer.id, targetId: this.peerId } as unknown as Message;
    peer.enqueue(async () => {
      const admitted = peer.documents.has(documentId as DocumentId) || (await this.admitted(peer, documentId as DocumentId));
      if (peer.closed) return;
      if (admitted) this.emit('message', relayed);
      else this.sendTo(peer, { type: 'doc-unavailable', senderId: this.peerId, targetId: peer.remoteId, documentId });
    }, this.logger);
  }

  /** A document that cannot be loaded is answered as unavailable; the failure is logged. */
  private async admitted(peer: SyncPeer, documentId: DocumentId): Promise<boolean> {
    try {
      return await this.admit(peer, documentId);
    } catch (error) {
      this.logger.error({ err: error, document: documentId }, 'loading a synced document failed');
      return false;
    }
  }

  private sendTo(peer: SyncPeer, message: Record<string, unknown>): void {
    if (!peer.closed) peer.socket.send(cbor.encode(message), true);
  }
}
