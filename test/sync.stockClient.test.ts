import * as Automerge from '@automerge/automerge';
import { Counter, isValidAutomergeUrl, Repo } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '../gateway/auth/jwt.js';
import type { Principal } from '../gateway/types.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { retailAccess } from '../retail/access.js';
import { cartDocument, type CartDocument } from '../retail/cartDocument.js';
import { cartChange, startRetailServer, type RetailServer } from './support/retailGateway.js';
import { waitFor } from './support/syncDevice.js';
import { cartCounts, cartDocumentUrl, documentEvents, getJson, postEvents } from './support/syncServer.js';

/*
 * A stock automerge-repo client (its Repo and WebSocket client adapter, none of our code)
 * syncs a cart against the gateway's `/v1/sync` with auth on: its edits become cart events
 * once each, events appended over HTTP reach its document, and another customer's token gets
 * neither the document's URL nor the document.
 */

const secret = 'test-secret-that-is-at-least-32-bytes-long';
let server: RetailServer;
let alice: string;
let bob: string;
let syncBase: string;

beforeAll(async () => {
  server = await startRetailServer({
    auth: { secret, policy: retailAccess },
    documents: { mapping: cartDocument, store: new MemoryStore(), idleMs: 100 },
  });
  syncBase = `ws://127.0.0.1:${server.gateway.port}/v1/sync`;
  [alice, bob] = (await Promise.all(([{ sub: 'c-alice', role: 'customer' }, { sub: 'c-bob', role: 'customer' }] as Principal[]).map((p) => signToken(secret, p, 3600)))) as [string, string];
});
afterAll(async () => {
  await server.close();
});

const stockRepo = (token: string): Repo => new Repo({ network: [new WebSocketClientAdapter(`${syncBase}?access_token=${token}`)] });

describe('the cart document URL', () => {
  it('is answered to its customer only', async () => {
    const mine = await getJson(`${server.url}/v1/carts/c-alice/document`, alice);
    expect(mine.status).toBe(200);
    expect(isValidAutomergeUrl(mine.json.url)).toBe(true);
    expect((await getJson(`${server.url}/v1/carts/c-alice/document`, alice)).json.url).toBe(mine.json.url);
    expect((await getJson(`${server.url}/v1/carts/c-alice/document`, bob)).status).toBe(403);
    expect((await getJson(`${server.url}/v1/carts/c-alice/document`)).status).toBe(401);
  });
});

describe('/v1/sync with a stock automerge-repo client', () => {
  it('turns its edits into cart events once each, with the change hashes and times', async () => {
    const url = await cartDocumentUrl(server.url, 'c-alice', alice);
    const repo = stockRepo(alice);
    try {
      const handle = await repo.find<CartDocument>(url);
      handle.change((doc) => {
        doc.items['sku-1'] = { quantity: new Counter(2) };
      });
      handle.change((doc) => doc.items['sku-1']!.quantity.increment(-1));
      expect(await waitFor('the view to count the edits', async () => ((await cartCounts(server.url, 'c-alice', alice))['sku-1'] === 1 ? true : undefined))).toBe(true);
      const changes = Automerge.getAllChanges(handle.doc()).map((bytes) => Automerge.decodeChange(bytes)).slice(-2);
      const events = await documentEvents(server.ledger, 'c-alice');
      expect(events.map(({ id, type, time, data }) => ({ id, type, time, data }))).toEqual([
        { id: `${changes[0]!.hash}-0`, type: 'retail.cart.item-added', time: new Date(changes[0]!.time * 1000).toISOString(), data: { customerId: 'c-alice', sku: 'sku-1', quantity: 2 } },
        { id: `${changes[1]!.hash}-0`, type: 'retail.cart.item-removed', time: new Date(changes[1]!.time * 1000).toISOString(), data: { customerId: 'c-alice', sku: 'sku-1', quantity: 1 } },
      ]);
    } finally {
      await repo.shutdown();
    }
  });

  it('brings events appended over HTTP into its document, without turning them back into events', async () => {
    const url = await cartDocumentUrl(server.url, 'c-alice', alice);
    const repo = stockRepo(alice);
    try {
      const handle = await repo.find<CartDocument>(url);
      expect((await postEvents(server.url, [cartChange('added', 'c-alice', 'sku-2', 3)], alice)).status).toBe(202);
      await waitFor('the HTTP append to reach the device', () => (handle.doc().items['sku-2']?.quantity.value === 3 ? true : undefined));
      expect(handle.doc().items['sku-1']!.quantity.value).toBe(1);
      // The server's own change is not an edit: still the two events of the first test.
      expect(await documentEvents(server.ledger, 'c-alice')).toHaveLength(2);
      expect(await cartCounts(server.url, 'c-alice', alice)).toEqual({ 'sku-1': 1, 'sku-2': 3 });
    } finally {
      await repo.shutdown();
    }
  });

  it("gives another customer's client neither the document nor a way to change it", async () => {
    const url = await cartDocumentUrl(server.url, 'c-alice', alice);
    const repo = stockRepo(bob);
    try {
      await expect(repo.find<CartDocument>(url)).rejects.toThrow(/unavailable/);
    } finally {
      await repo.shutdown();
    }
    expect(await cartCounts(server.url, 'c-alice', alice)).toEqual({ 'sku-1': 1, 'sku-2': 3 });
  });

  it('refuses an upgrade without a valid token (401)', async () => {
    for (const url of [syncBase, `${syncBase}?access_token=not-a-token`]) {
      const status = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.once('open', () => reject(new Error('upgraded without a token')));
        socket.once('error', () => {});
      });
      expect(status).toBe(401);
    }
  });
});
