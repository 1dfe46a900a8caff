import { SignJWT } from 'jose';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../gateway/auth/jwt.js';
import type { Principal } from '../gateway/types.js';
import { retailAccess } from '../retail/access.js';
import { retailDomain } from '../retail/domain.js';
import { startService } from '../service/service.js';
import { LiveClient } from './support/liveClient.js';
import { cartChange, productCreated, retailEvent, startRetailServer, type RetailServer } from './support/retailGateway.js';

/*
 * Bearer-token auth with the retail access policy, against a real gateway: who may read,
 * subscribe and append what, which tokens are refused, and which origins may open sockets.
 */

const secret = 'test-secret-that-is-at-least-32-bytes-long';
let server: RetailServer;
let alice: string;
let bob: string;
let staff: string;
let service: string;

beforeAll(async () => {
  server = await startRetailServer({ auth: { secret, policy: retailAccess }, limits: { defaultWaitMs: 2000 } });
  [alice, bob, staff, service] = (await Promise.all(
    ([
      { sub: 'c-alice', role: 'customer' },
      { sub: 'c-bob', role: 'customer' },
      { sub: 'ops-1', role: 'staff' },
      { sub: 'importer', role: 'service' },
    ] as Principal[]).map((principal) => signToken(secret, principal, 3600)),
  )) as [string, string, string, string];
  const seeded = await post([productCreated('sku-auth', 500)], service);
  expect(seeded.status).toBe(202);
});
afterAll(async () => {
  await server.close();
});

const auth = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

async function get(path: string, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(server.url + path, { headers: { ...auth(token), ...headers } });
  const text = await response.text();
  return { status: response.status, json: text.startsWith('{') ? JSON.parse(text) : text, headers: response.headers };
}

async function post(events: unknown[], token?: string, query = ''): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.url}/v1/events${query}`, {
    method: 'POST',
    body: JSON.stringify(events),
    headers: { 'content-type': 'application/cloudevents-batch+json', ...auth(token) },
  });
  return { status: response.status, json: await response.json() };
}

async function cartOf(customerId: string): Promise<unknown> {
  return (await get(`/v1/views/cart/${customerId}?after=${(await post([], service)).json.token}`, staff)).json.value;
}

/** A JWT signed with `key`, with the given claims and header, for tokens signToken would never make. */
function forge(claims: Record<string, unknown>, { key = secret, alg = 'HS256' }: { key?: string; alg?: string } = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(key));
}
const now = (): number => Math.floor(Date.now() / 1000);

describe('HTTP reads', () => {
  it('lets a customer read their own cart and recently viewed, and refuses another customer’s with 403', async () => {
    expect((await get('/v1/views/cart/c-alice', alice)).status).toBe(200);
    expect((await get('/v1/views/recently-viewed/c-alice', alice)).status).toBe(200);
    for (const path of ['/v1/views/cart/c-bob', '/v1/views/recently-viewed/c-bob', '/v1/views/leaderboard/seattle-downtown', '/v1/views/sales-by-shade/cosmetics']) {
      const { status, json } = await get(path, alice);
      expect({ path, status, code: json.error.code }).toEqual({ path, status: 403, code: 'forbidden' });
    }
  });

  it('serves catalog and product views without a token', async () => {
    const catalog = await get('/v1/views/catalog/cosmetics');
    expect(catalog.status).toBe(200);
    expect((await get('/v1/views/product/sku-auth')).status).toBe(200);
  });

  it('asks for a token (401 with WWW-Authenticate) where the view is not public', async () => {
    const { status, json, headers } = await get('/v1/views/cart/c-alice');
    expect(status).toBe(401);
    expect(json.error.code).toBe('unauthorized');
    expect(headers.get('www-authenticate')).toBe('Bearer');
  });

  it('lets staff and services read everything', async () => {
    for (const token of [staff, service]) {
      for (const path of ['/v1/views/cart/c-bob', '/v1/views/recently-viewed/c-alice', '/v1/views/leaderboard/seattle-downtown']) {
        expect((await get(path, token)).status).toBe(200);
      }
    }
  });

  it('keeps health public and metrics for staff and services', async () => {
    expect((await get('/v1/health')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', alice)).status).toBe(403);
    expect((await get('/metrics', staff)).status).toBe(200);
    expect((await get('/metrics', service)).status).toBe(200);
  });
});

describe('HTTP appends', () => {
  it('lets a customer append their own customer-stream events', async () => {
    const { status } = await post([cartChange('added', 'c-alice', 'sku-auth', 2), retailEvent('retail.customer.product-viewed', 'c-alice', { customerId: 'c-alice', sku: 'sku-auth' })], alice);
    expect(status).toBe(202);
  });

  it('refuses a batch with one event for another customer whole: 403 naming it, nothing appended', async () => {
    const before = await cartOf('c-alice');
    const { status, json } = await post([cartChange('added', 'c-alice', 'sku-auth', 1), cartChange('added', 'c-bob', 'sku-auth', 1)], alice);
    expect(status).toBe(403);
    expect(json.error).toMatchObject({ code: 'forbidden', index: 1, path: '/subject' });
    expect(await cartOf('c-alice')).toEqual(before);
    expect(await cartOf('c-bob')).toMatchObject({ lines: [] });
  });

  it('refuses events of other streams from a customer, even about themselves', async () => {
    const { status, json } = await post([productCreated('sku-mine', 1)], alice);
    expect(status).toBe(403);
    expect(json.error).toMatchObject({ code: 'forbidden', index: 0, path: '/type' });
  });

  it('refuses a write-through await on another customer’s view before appending', async () => {
    const { status } = await post([cartChange('added', 'c-alice', 'sku-auth', 1)], alice, '?await=cart/c-bob');
    expect(status).toBe(403);
    expect((await post([cartChange('added', 'c-alice', 'sku-auth', 1)], alice, '?await=cart/c-alice')).status).toBe(200);
  });

  it('asks for a token to append, and lets staff append anything', async () => {
    expect((await post([cartChange('added', 'c-alice', 'sku-auth', 1)])).status).toBe(401);
    expect((await post([productCreated('sku-staff', 900), cartChange('added', 'c-bob', 'sku-staff', 1)], staff)).status).toBe(202);
  });
});

describe('tokens', () => {
  it('refuses tampered, forged, expired, not-yet-valid and incomplete tokens with 401', async () => {
    const [header, payload, signature] = alice.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const asBob = Buffer.from(JSON.stringify({ ...claims, sub: 'c-bob' })).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    const refused: Array<[string, string, string]> = [
      ['payload changed', `${header}.${asBob}.${signature}`, 'invalid_token'],
      ['signature changed', `${header}.${payload}.${flipped}`, 'invalid_token'],
      ['unsigned (alg none)', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`, 'invalid_token'],
      ['another secret', await forge({ sub: 'c-alice', role: 'customer', exp: now() + 60 }, { key: 'another-secret-another-secret-another' }), 'invalid_token'],
      ['another algorithm', await forge({ sub: 'c-alice', role: 'customer', exp: now() + 60 }, { alg: 'HS512' }), 'invalid_token'],
      ['expired', await forge({ sub: 'c-alice', role: 'customer', exp: now() - 60 }), 'token_expired'],
      ['not yet valid', await forge({ sub: 'c-alice', role: 'customer', exp: now() + 600, nbf: now() + 300 }), 'invalid_token'],
      ['no expiry', await forge({ sub: 'c-alice', role: 'customer' }), 'invalid_token'],
      ['no role', await forge({ sub: 'c-alice', exp: now() + 60 }), 'invalid_token'],
      ['unknown role', await forge({ sub: 'c-alice', role: 'admin', exp: now() + 60 }), 'invalid_token'],
      ['not a JWT', 'abc.def', 'invalid_token'],
    ];
    for (const [why, token, code] of refused) {
      const { status, json } = await get('/v1/views/cart/c-alice', token);
      expect({ why, status, code: json.error?.code }).toEqual({ why, status: 401, code });
    }
    // Even on public views: a bad token is never silently ignored.
    expect((await get('/v1/views/catalog/cosmetics', `${header}.${asBob}.${signature}`)).status).toBe(401);
    expect((await get('/v1/views/cart/c-alice', undefined, { authorization: `Basic ${alice}` })).json.error.code).toBe('invalid_token');
  });

  it('accepts a token within the clock tolerance of its expiry', async () => {
    const token = await forge({ sub: 'c-alice', role: 'customer', exp: now() - 2 });
    expect((await get('/v1/views/cart/c-alice', token)).status).toBe(200);
  });
});

describe('WebSocket', () => {
  const open = (token?: string, options: { header?: boolean; origin?: string } = {}): Promise<LiveClient> => {
    const url = token && !options.header ? `${server.liveUrl}?access_token=${token}` : server.liveUrl;
    return LiveClient.open(url, { headers: options.header ? auth(token) : {}, ...(options.origin ? { origin: options.origin } : {}) });
  };

  it('lets a customer subscribe to their own cart (token in the query or the header) but not to another’s', async () => {
    for (const client of [await open(alice), await open(alice, { header: true })]) {
      try {
        client.send({ op: 'subscribe', view: 'cart', key: 'c-alice', ref: 'mine' });
        await client.next((f) => f.op === 'view' && f.key === 'c-alice');
        client.send({ op: 'subscribe', view: 'cart', key: 'c-bob', ref: 'theirs' });
        expect(await client.next((f) => f.op === 'error')).toMatchObject({ ref: 'theirs', error: { code: 'forbidden' } });
        client.send({ op: 'subscribe', view: 'recently-viewed', key: 'c-bob', ref: 'theirs-too' });
        expect(await client.next((f) => f.ref === 'theirs-too')).toMatchObject({ error: { code: 'forbidden' } });
        expect(client.values('cart', 'c-bob')).toEqual([]);
      } finally {
        client.close();
      }
    }
  });

  it('keeps every socket of a burst of authenticated upgrades open (no drop right after open)', async () => {
    for (let round = 0; round < 3; round++) {
      const clients = await Promise.all(Array.from({ length: 30 }, () => open(alice)));
      try {
        for (const client of clients) client.send({ op: 'subscribe', view: 'cart', key: 'c-alice' });
        await Promise.all(clients.map((client) => client.next((f) => f.op === 'view', 5000)));
      } finally {
        for (const client of clients) client.close();
      }
    }
  });

  it('refuses appends for another customer over the socket, appending nothing', async () => {
    const client = await open(bob);
    const aliceBefore = await cartOf('c-alice');
    try {
      client.send({ op: 'append', events: [cartChange('added', 'c-alice', 'sku-auth', 5)], ref: 'steal' });
      expect(await client.next((f) => f.ref === 'steal')).toMatchObject({ op: 'error', error: { code: 'forbidden', index: 0, path: '/subject' } });
      client.send({ op: 'append', events: [cartChange('added', 'c-bob', 'sku-auth', 1)], await: 'cart/c-bob', ref: 'own' });
      const own = await client.next((f) => f.ref === 'own');
      expect(own.op).toBe('receipts');
      expect(own.views![0]!.value).toMatchObject({ customerId: 'c-bob', itemCount: 2 });
      expect(await cartOf('c-alice')).toEqual(aliceBefore);
    } finally {
      client.close();
    }
  });

  it('lets anyone subscribe to public views without a token, and nothing else', async () => {
    const client = await open();
    try {
      client.send({ op: 'subscribe', view: 'catalog', key: 'cosmetics' });
      await client.next((f) => f.op === 'view' && f.view === 'catalog');
      client.send({ op: 'subscribe', view: 'cart', key: 'c-alice', ref: 1 });
      expect(await client.next((f) => f.ref === 1)).toMatchObject({ error: { code: 'unauthorized' } });
      client.send({ op: 'append', events: [cartChange('added', 'c-alice', 'sku-auth', 1)], ref: 2 });
      expect(await client.next((f) => f.ref === 2)).toMatchObject({ error: { code: 'unauthorized' } });
    } finally {
      client.close();
    }
  });

  it('refuses the upgrade with 401 for a bad or expired token', async () => {
    const expired = await forge({ sub: 'c-alice', role: 'customer', exp: now() - 60 });
    await expect(open(`${alice}x`)).rejects.toMatchObject({ status: 401 });
    await expect(open(expired)).rejects.toMatchObject({ status: 401, body: expect.stringContaining('token_expired') });
    await expect(open(expired, { header: true })).rejects.toMatchObject({ status: 401 });
  });

  it('closes a socket when its token expires', async () => {
    const shortLived = await forge({ sub: 'c-alice', role: 'customer', exp: now() + 2 });
    const client = await open(shortLived);
    expect(await client.closed).toEqual({ code: 1008, reason: 'token_expired' });
  });

  it('refuses origins off the allow-list with 403 and accepts the default loopback ones', async () => {
    await expect(open(alice, { origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403, body: expect.stringContaining('forbidden_origin') });
    for (const origin of ['http://localhost:5173', `http://127.0.0.1:${server.gateway.port}`]) (await open(alice, { origin })).close();
    const strict = await startRetailServer({ auth: { secret, policy: retailAccess }, allowedOrigins: ['https://shop.example', 'http://localhost:*'] });
    try {
      const url = `${strict.liveUrl}?access_token=${alice}`;
      (await LiveClient.open(url, { origin: 'https://shop.example' })).close();
      (await LiveClient.open(url, { origin: 'http://LOCALHOST:8080' })).close();
      await expect(LiveClient.open(url, { origin: 'http://127.0.0.1:8080' })).rejects.toMatchObject({ status: 403 });
      await expect(LiveClient.open(url, { origin: 'https://shop.example.evil' })).rejects.toMatchObject({ status: 403 });
    } finally {
      await strict.close();
    }
  });
});

describe('listening without a secret', () => {
  it('refuses a non-loopback host in the gateway, the service and the CLI, and a weak secret', async () => {
    await expect(startRetailServer({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'insecure_host' });
    await expect(startRetailServer({ auth: { secret: 'short', policy: retailAccess } })).rejects.toMatchObject({ code: 'weak_secret' });
    const dataDir = await mkdtemp(join(tmpdir(), 'foldline-auth-'));
    try {
      await expect(startService({ domain: retailDomain, dataDir, host: '0.0.0.0', port: 0, shards: 1, logger: pino({ level: 'silent' }) })).rejects.toMatchObject({ code: 'insecure_host' });
      const cli = promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', '--data', dataDir, '--host', '0.0.0.0', '--port', '0'], {
        env: { ...process.env, FOLDLINE_AUTH_SECRET: '' },
      });
      await expect(cli).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('without authentication') });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
