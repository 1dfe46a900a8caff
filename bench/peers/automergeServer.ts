import { Repo } from '@automerge/automerge-repo';
import { WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { WebSocketServer } from 'ws';

/*
 * A stock automerge-repo sync server, as automerge-repo-sync-server sets one up but with its
 * documents in memory: a repo on the WebSocket server adapter that announces no document to
 * anyone (peers ask for the ones they want). Run by the peers suite in a process of its own:
 * it prints the WebSocket URL it listens on and stops on SIGTERM.
 */
const socket = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((resolve) => socket.once('listening', resolve));
const repo = new Repo({ network: [new WebSocketServerAdapter(socket as never)], peerId: 'sync-server' as never, sharePolicy: async () => false });
const { port } = socket.address() as { port: number };
console.log(`listening on ws://127.0.0.1:${port}`);
process.once('SIGTERM', () => {
  void repo.shutdown().finally(() => process.exit(0));
});
