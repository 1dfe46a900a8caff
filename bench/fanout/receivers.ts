import { createServer } from 'node:http';

/*
 * The fanout bench's webhook endpoints, in a process of their own: `count` HTTP servers on
 * loopback that read each POST and answer 204. Sends the parent its URLs once listening,
 * and exits when told.
 */
const count = Number(process.argv[2]);
const urls = await Promise.all(
  Array.from({ length: count }, async () => {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  }),
);
process.send!(urls);
process.on('message', () => process.exit(0));
