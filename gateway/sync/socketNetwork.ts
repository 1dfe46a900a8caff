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

/** One device's socket: the peer id the repos know it by, and the documents it was let sync. */
export class SyncPeer {
  /** The id the device gave in its join message: it is answered under it. */
  remoteId: PeerId | undefined;
  metadata: PeerMetadata = {};
  readonly documents = new Set<DocumentId>();
  /** The repos' networks it was introduced to (it is a peer of those repos only). */
  readonly networks = new Set<RepoNetwork>();
  closed = false;
  /** Its messages are handed to the repos in the order they came, each after its document's admission. */
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

  send(message: Record<string, unknown>): void {
    if (!this.closed) this.socket.send(cbor.encode(message), true);
  }
}

/** Decides whether a peer may sync a document (and loads it); false answers the peer `doc-unavailable`. */
export type AdmitDocument = (peer: SyncPeer, documentId: DocumentId) => Promise<boolean>;

/**
 * The network of one of the server's repos: the device sockets that synced a document of
 * that repo, introduced to it at their first such message. A repo sees only its own peers:
 * automerge-repo 2.5.6 walks every peer of a repo for each message and each new document, so
 * one repo of every device would cost the square of the devices connected.
 */
export class RepoNetwork extends NetworkAdapter {
  private readonly peers = new Map<PeerId, SyncPeer>();

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

  disconnect(): void {}

  /** A message of an admitted peer about one of this repo's documents. */
  deliver(peer: SyncPeer, message: Message): void {
    if (!this.peers.has(peer.id)) {
      this.peers.set(peer.id, peer);
      peer.networks.add(this);
      this.emit('peer-candidate', { peerId: peer.id, peerMetadata: peer.metadata });
    }
    this.emit('message', message);
  }

  /** The peer's socket closed. */
  forget(peer: SyncPeer): void {
    if (this.peers.delete(peer.id)) this.emit('peer-disconnected', { peerId: peer.id });
  }

  send(message: Message): void {
    const peer = this.peers.get(message.targetId);
    if (!peer || peer.closed) return;
    if (message.documentId !== undefined && !peer.documents.has(message.documentId)) return;
    peer.send({ ...message, targetId: peer.remoteId });
  }
}

/**
 * The WebSocket side of `/v1/sync`: the protocol of automerge-repo-network-websocket (CBOR
 * messages; a device joins, the server answers `peer`) over uWebSockets.js sockets, so a
 * stock client adapter syncs with it. automerge-repo has no auth: a message about a
 * document reaches the document's repo (`networkOf`) only once `admit` let the peer sync
 * it, and a repo's messages reach a peer only for documents it was let sync.
 */
export class SocketNetwork {
  private readonly peers = new Set<SyncPeer>();
  private nextPeer = 0;

  constructor(
    private readonly serverId: PeerId,
    /** What the server tells a device of itself (its storage id, as its repos have it). */
    private readonly serverMetadata: () => PeerMetadata,
    private readonly networkOf: (documentId: DocumentId) => RepoNetwork,
    private readonly admit: AdmitDocument,
    private readonly left: (peer: SyncPeer) => void,
    private readonly logger: Logger,
  ) {}

  /** Ends every socket (the server is going). */
  disconnect(): void {
    for (const peer of [...this.peers]) {
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

  /** The socket closed: the repos forget the peer. */
  closed(peer: SyncPeer): void {
    if (peer.closed) return;
    peer.closed = true;
    this.peers.delete(peer);
    for (const network of peer.networks) network.forget(peer);
    this.left(peer);
  }

  private join(peer: SyncPeer, message: Record<string, unknown>): void {
    const versions = message['supportedProtocolVersions'];
    if (message['type'] !== 'join' || typeof message['senderId'] !== 'string') {
      peer.socket.end(1008, 'a peer must join first');
      return;
    }
    peer.remoteId = message['senderId'] as PeerId;
    if (Array.isArray(versions) && !versions.includes(protocolVersion)) {
      peer.send({ type: 'error', senderId: this.serverId, message: 'unsupported protocol version', targetId: peer.remoteId });
      peer.socket.end(1002, 'unsupported protocol version');
      return;
    }
    this.peers.add(peer);
    const metadata = message['peerMetadata'];
    if (typeof metadata === 'object' && metadata !== null) peer.metadata = metadata as PeerMetadata;
    peer.send({ type: 'peer', senderId: this.serverId, peerMetadata: this.serverMetadata(), selectedProtocolVersion: protocolVersion, targetId: peer.remoteId });
  }

  private relay(peer: SyncPeer, message: Record<string, unknown>): void {
    const documentId = message['documentId'];
    if (typeof documentId !== 'string' || !documentMessages.has(message['type'] as string)) return;
    const relayed = { ...message, senderId: peer.id, targetId: this.serverId } as unknown as Message;
    peer.enqueue(async () => {
      const admitted = peer.documents.has(documentId as DocumentId) || (await this.admitted(peer, documentId as DocumentId));
      if (peer.closed) return;
      if (admitted) this.networkOf(documentId as DocumentId).deliver(peer, relayed);
      else peer.send({ type: 'doc-unavailable', senderId: this.serverId, targetId: peer.remoteId, documentId });
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
}
