import { createServer } from 'node:net';

/** Whether nothing listens on 127.0.0.1:`port` (0: a free port the system picks, returned). */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

/** A port free a moment ago. */
export async function freePort(): Promise<number> {
  return (await listenOnce(0))!;
}

export async function isPortFree(port: number): Promise<boolean> {
  return (await listenOnce(port)) !== undefined;
}
