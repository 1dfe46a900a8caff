import pino from 'pino';
import { Registry } from 'prom-client';
import uWS from 'uwebsockets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCanListen, startGateway } from '../gateway/server.js';
import { retailDomain } from '../retail/domain.js';
import { freePort } from './support/ports.js';
import { startRetailServer, type RetailServer } from './support/retailGateway.js';

/*
 * uWebSockets.js listens with SO_REUSEPORT unless told otherwise, and two listeners that
 * both set it share the port. The holder here sets it, as a foldline before this fix did.
 */
describe('the gateway listens exclusively', () => {
  let holder: uWS.TemplatedApp;
  let heldPort: number;
  let server: RetailServer;
  beforeAll(async () => {
    holder = uWS.App();
    // A port of its choosing: the kernel lets no one share a port it picked (port 0).
    heldPort = await freePort();
    const socket = await new Promise<uWS.us_listen_socket | false>((resolve) => holder.listen('127.0.0.1', heldPort, resolve));
    expect(socket).not.toBe(false);
    server = await startRetailServer();
  });
  afterAll(async () => {
    holder.close();
    await server.close();
  });

  it('refuses a port in use, even by a listener that would share it', async () => {
    const gateway = startGateway({
      ledger: server.ledger,
      validate: retailDomain.validate,
      views: server.views,
      host: '127.0.0.1',
      port: heldPort,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    await expect(gateway).rejects.toMatchObject({ code: 'port_in_use', message: `port ${heldPort} is in use` });
  });

  it('says so before anything is opened, for a service to check first', async () => {
    await expect(checkCanListen('127.0.0.1', heldPort)).rejects.toMatchObject({ code: 'port_in_use' });
    await expect(checkCanListen('127.0.0.1', server.gateway.port)).rejects.toMatchObject({ code: 'port_in_use' });
    await expect(checkCanListen('127.0.0.1', 0)).resolves.toBeUndefined();
  });
});
