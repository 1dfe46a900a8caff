import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../gateway/auth/jwt.js';
import { retailDomain } from '../retail/domain.js';
import { startService, type Service } from '../service/service.js';
import { runFoldline } from './support/cliProcess.js';
import { cartChange } from './support/retailGateway.js';
import { WebhookReceiver } from './support/webhookReceiver.js';

/*
 * Managing webhook subscriptions: /v1/subscriptions for the access policy's operators only,
 * bad requests refused with the path of the bad member, `foldline subscriptions` against a
 * running server, and subscriptions that survive a restart with their checkpoints.
 */
const authSecret = 'an-auth-secret-of-at-least-32-bytes!';
const secret = 'a-webhook-secret-of-some-length';
let dataDir: string;
let service: Service;
let staff: string;
let customer: string;
const receiver = new WebhookReceiver(secret);
let endpoint: string;

const start = (): Promise<Service> =>
  startService({
    domain: retailDomain,
    dataDir,
    host: '127.0.0.1',
    port: 0,
    shards: 2,
    authSecret,
    logger: pino({ level: 'silent' }),
    subscriptionDelivery: { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } },
  });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'foldline-subscriptions-'));
  service = await start();
  staff = await signToken(authSecret, { sub: 'ops', role: 'staff' }, 3600);
  customer = await signToken(authSecret, { sub: 'c-1', role: 'customer' }, 3600);
  endpoint = await receiver.listen();
}, 30_000);

afterAll(async () => {
  await service?.close();
  await receiver.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; answer: any }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, answer: await response.json() };
}

async function appendCart(customerId: string): Promise<string> {
  const event = cartChange('added', customerId, 'sku-1', 1);
  const response = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${staff}` }, body: JSON.stringify(event) });
  expect(response.status).toBe(202);
  return event['id'] as string;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('/v1/subscriptions', () => {
  it('is for operators only', async () => {
    expect((await api('GET', '/v1/subscriptions', undefined)).status).toBe(401);
    expect((await api('POST', '/v1/subscriptions', customer, { name: 'x', url: endpoint, secret })).answer.error.code).toBe('forbidden');
    expect((await api('GET', '/v1/subscriptions', staff)).answer).toEqual({ subscriptions: [] });
  });

  it('refuses a bad subscription with the path of the bad member, and a second one of the same name', async () => {
    const cases: Array<[unknown, string]> = [
      [[], ''],
      [{ name: 'Bad Name', url: endpoint, secret }, '/name'],
      [{ name: 'ok', url: 'ftp://example.com/', secret }, '/url'],
      [{ name: 'ok', url: endpoint, secret: 'short' }, '/secret'],
      [{ name: 'ok', url: endpoint, secret, types: ['a', 7] }, '/types/1'],
      [{ name: 'ok', url: endpoint, secret, from: 'yesterday' }, '/from'],
      [{ name: 'ok', url: endpoint, secret, colour: 'red' }, '/colour'],
    ];
    for (const [body, path] of cases) {
      const { status, answer } = await api('POST', '/v1/subscriptions', staff, body);
      expect([status, answer.error.code, answer.error.path]).toEqual([400, 'invalid_subscription', path === '' ? undefined : path]);
    }
    expect((await api('GET', '/v1/subscriptions', staff)).answer.subscriptions).toEqual([]);
    expect((await api('POST', '/v1/subscriptions', staff, { name: 'twice', url: endpoint, secret })).status).toBe(201);
    expect((await api('POST', '/v1/subscriptions', staff, { name: 'twice', url: endpoint, secret })).answer.error.code).toBe('subscription_exists');
    expect((await api('DELETE', '/v1/subscriptions/twice', staff)).answer).toEqual({ name: 'twice', removed: true });
    expect((await api('DELETE', '/v1/subscriptions/twice', staff)).status).toBe(404);
  });

  it('is managed with foldline subscriptions, and survives a restart with its checkpoint', async () => {
    const env = { ...process.env, FOLDLINE_TOKEN: staff, FOLDLINE_WEBHOOK_SECRET: secret };
    const added = await runFoldline(['subscriptions', 'add', '--url', service.url, '--name', 'cli-hook', '--endpoint', endpoint, '--types', 'retail.cart.item-added'], { env });
    expect([added.code, added.stderr]).toEqual([0, '']);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'cli-hook', url: endpoint, types: ['retail.cart.item-added'], lag: 0 });

    const first = await appendCart('c-admin-1');
    await until(() => receiver.distinct().has(first));

    await service.close();
    const whileDown = await appendCartDirect();
    service = await start();
    const second = await appendCart('c-admin-2');
    await until(() => receiver.distinct().has(second) && receiver.distinct().has(whileDown));
    // At least once, and here exactly once: the checkpoint moved past the first before the restart.
    expect(receiver.received.filter(({ id }) => id === first)).toHaveLength(1);

    const listed = await runFoldline(['subscriptions', 'list', '--url', service.url], { env });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ name: 'cli-hook', deadLetters: 0 });

    const replayed = await runFoldline(['subscriptions', 'replay-dead', 'cli-hook', '--url', service.url], { env });
    expect(JSON.parse(replayed.stdout)).toEqual({ name: 'cli-hook', replayed: 0, delivered: 0, stillDead: 0 });

    const removed = await runFoldline(['subscriptions', 'remove', 'cli-hook', '--url', service.url], { env });
    expect([removed.code, JSON.parse(removed.stdout)]).toEqual([0, { name: 'cli-hook', removed: true }]);
    const again = await runFoldline(['subscriptions', 'remove', 'cli-hook', '--url', service.url], { env });
    expect([again.code, again.stdout, again.stderr]).toEqual([2, '', 'foldline subscriptions remove: no subscription named "cli-hook"; see foldline subscriptions list\n']);
    const denied = await runFoldline(['subscriptions', 'list', '--url', service.url], { env: { ...process.env, FOLDLINE_TOKEN: customer } });
    expect([denied.code, denied.stderr]).toEqual([2, expect.stringMatching(/^foldline subscriptions list: customer "c-1" may not operate this service; --token must be a staff or service token\n$/)]);
  }, 60_000);
});

/** An event appended while the service is down, straight to its data directory. */
async function appendCartDirect(): Promise<string> {
  const event = cartChange('added', 'c-admin-down', 'sku-1', 1);
  const run = await runFoldline(['ledger', 'append', '--data', dataDir, '--shards', '2', '-'], { input: `${JSON.stringify(event)}\n` });
  expect(run.code).toBe(0);
  return event['id'] as string;
}
