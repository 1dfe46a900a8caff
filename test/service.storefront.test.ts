import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retailDomain } from '../retail/domain.js';
import { storefrontAssets } from '../retail/storefront/assets.js';
import { startService, type Service, type ServiceOptions } from '../service/service.js';

/* What `foldline start` serves besides the API: the storefront page and the demo endpoints. */

const secret = 'storefront-test-secret-of-32-bytes-or-more';
const started: Array<{ service: Service; dataDir: string }> = [];

async function start(options: Partial<ServiceOptions>): Promise<Service> {
  const dataDir = await mkdtemp(join(tmpdir(), 'foldline-storefront-'));
  const service = await startService({ domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 1, logger: pino({ level: 'silent' }), ...options });
  started.push({ service, dataDir });
  return service;
}

let secured: Service;
let open: Service;
beforeAll(async () => {
  [secured, open] = await Promise.all([start({ authSecret: secret, demo: true }), start({ demo: true })]);
});
afterAll(async () => {
  for (const { service, dataDir } of started) {
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('static assets', () => {
  it('serves the page at / and every asset with its content type, an ETag and no-cache, without a token', async () => {
    const assets = await storefrontAssets();
    for (const [path, asset] of assets) {
      const response = await fetch(secured.url + path);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(response.headers.get('content-type')).toBe(asset.contentType);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(Buffer.from(await response.arrayBuffer()).equals(asset.body)).toBe(true);
    }
  });

  it('answers a matching If-None-Match with 304 and HEAD with the headers only', async () => {
    const page = await fetch(`${secured.url}/`);
    const etag = page.headers.get('etag')!;
    const cached = await fetch(`${secured.url}/`, { headers: { 'if-none-match': `W/"other", ${etag}` } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
    expect((await fetch(`${secured.url}/`, { headers: { 'if-none-match': '"stale"' } })).status).toBe(200);
    const head = await fetch(`${secured.url}/assets/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe((await storefrontAssets()).get('/assets/app.js')!.body.length);
    expect(await head.text()).toBe('');
  });
});

describe('demo endpoints', () => {
  it('lists the generator’s categories and stores', async () => {
    const categories = (await (await fetch(`${secured.url}/v1/demo/categories`)).json()) as string[];
    expect(categories).toEqual(expect.arrayContaining(['cosmetics', 'apparel', 'shoes']));
    const stores = (await (await fetch(`${secured.url}/v1/demo/stores`)).json()) as string[];
    expect(stores).toContain('seattle-downtown');
  });

  it('signs a customer in with a token that reads their cart and nobody else’s', async () => {
    const response = await fetch(`${secured.url}/v1/demo/sign-in`, { method: 'POST', body: JSON.stringify({ customerId: 'c-2' }), headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
    const { token, customerId } = (await response.json()) as { token: string; customerId: string };
    expect(customerId).toBe('c-2');
    const read = (key: string) => fetch(`${secured.url}/v1/views/cart/${key}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await read('c-2')).toBe(200);
    expect(await read('c-3')).toBe(403);
    const refused = await fetch(`${secured.url}/v1/demo/sign-in`, { method: 'POST', body: JSON.stringify({ customerId: '../admin' }) });
    expect(refused.status).toBe(400);
  });

  it('signs in without a token when there is no secret, and offers no sign-in without --demo', async () => {
    const response = await fetch(`${open.url}/v1/demo/sign-in`, { method: 'POST', body: JSON.stringify({ customerId: 'c-1' }) });
    expect(await response.json()).toEqual({ token: null, customerId: 'c-1' });
    const plain = await start({});
    expect((await fetch(`${plain.url}/v1/demo/sign-in`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
