import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An AWS service emulator listening on loopback, for tests and benchmarks. */
export interface Emulator {
  endpoint: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<Emulator> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    // Only the listener and its connections are closed, not the emulator's in-memory
    // database: a request whose client was killed may still be writing to it, and the
    // emulators' own close() shuts the database under that write (an uncaught error).
    close: () =>
      new Promise<void>((resolve) => {
        Server.prototype.close.call(server, () => resolve());
        server.closeAllConnections();
      }),
  };
}

/** dynalite in this process: tables active at once, state in memory. */
export function startDynalite(): Promise<Emulator> {
  return listen(dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }));
}

/** kinesalite in this process: streams active at once, state in memory. */
export function startKinesalite(): Promise<Emulator> {
  return listen(kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 }));
}
