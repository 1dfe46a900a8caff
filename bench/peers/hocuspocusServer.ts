import { Server } from '@hocuspocus/server';

/*
 * A stock Hocuspocus server, documents in memory, run by the peers suite in a process of its
 * own: it prints the WebSocket URL it listens on and stops on SIGTERM.
 */
const server = new Server({ address: '127.0.0.1', port: 0, quiet: true, stopOnSignals: true });
await server.listen();
console.log(`listening on ws://127.0.0.1:${server.address.port}`);
