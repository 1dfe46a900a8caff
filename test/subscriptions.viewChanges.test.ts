import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontierCovers } from '../crdt/index.js';
import { decodeToken } from '../ledger/token.js';
import { startService, type Service } from '../service/service.js';
import { retailServiceOptions } from './support/retailService.js';
import { viewChangedType } from '../subscriptions/viewChangeSource.js';
import { LiveClient } from './support/liveClient.js';
import { cartChange, productCreated } from './support/retailGateway.js';
import { WebhookReceiver } from './support/webhookReceiver.js';

/*
 * Webhooks of view changes, and W3C traces carried from an append to what it causes: a
 * subscription to the `cart` view is POSTed each cart's new values, in token order per cart,
 * ending at the value a read gives; a `traceparent` given with an append comes along on the
 * view change it causes, on the webhook and on the `/v1/live` push.
 */
const secret = 'a-view-webhook-secret-of-some-length';
const skus = ['vc-sku-1', 'vc-sku-2', 'vc-sku-3'];
const traceOf = (n: number): string => `00-${n.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`;

let dataDir: string;
let service: Service;
const serviceOptions = (changeViews: string[]) =>
  retailServiceOptions(dataDir, { changeViews, subscriptionDelivery: { retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 }, concurrency: 4, timeoutMs: 5_000 } });
let receiver: WebhookReceiver;
let url: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'foldline-view-hooks-'));
  service = await startService(serviceOptions(['cart']));
  await service.changes!.ready;
  receiver = new WebhookReceiver(secret);
  url = await receiver.listen();
  await append(skus.map((sku) => productCreated(sku, 1_000)));
}, 30_000);

afterAll(async () => {
  await service?.close();
  await receiver?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function append(events: Array<Record<string, unknown>>, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json', ...headers }, body: JSON.stringify(events) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { token: string }).token;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; answer: any }> {
  const response = await fetch(`${service.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, answer: await response.json() };
}

async function readCart(customer: string): Promise<unknown> {
  return ((await (await fetch(`${service.url}/v1/views/cart/${customer}`)).json()) as { value: unknown }).value;
}

interface CartChange {
  view: string;
  key: string;
  token: string;
  value: unknown;
}

/** Waits until the last change received for each customer's cart is what a read of it gives. */
async function settledTo(customers: readonly string[], received: () => ReadonlyArray<{ data: unknown }>): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const last = new Map<string, unknown>();
    for (const { data } of received()) last.set((data as CartChange).key, (data as CartChange).value);
    const reads = await Promise.all(customers.map(readCart));
    if (customers.every((customer, i) => JSON.stringify(last.get(customer)) === JSON.stringify(reads[i]))) return;
    if (Date.now() > deadline) throw new Error(`the webhook's last values never matched the reads: ${JSON.stringify(customers.map((c, i) => [last.get(c), reads[i]]))}`);
    await sleep(50);
  }
}

describe('view-change webhooks', () => {
  it('refuses a view not on the change stream, and views with types, naming the member', async () => {
    const notStreamed = await api('POST', '/v1/subscriptions', { name: 'bad-1', url, secret, views: ['cart', 'catalog'] });
    expect([notStreamed.status, notStreamed.answer.error.code, notStreamed.answer.error.path]).toEqual([400, 'not_streamed', '/views/1']);
    const both = await api('POST', '/v1/subscriptions', { name: 'bad-2', url, secret, views: ['cart'], types: ['retail.cart.item-added'] });
    expect([both.status, both.answer.error.code, both.answer.error.path]).toEqual([400, 'invalid_subscription', '/views']);
    // Nothing of either was kept.
    expect((await api('GET', '/v1/subscriptions')).answer.subscriptions).toEqual([]);
  });

  it('delivers every cart its new values in token order, ending at what a read gives, with the traces of the appends', async () => {
    const { status, answer } = await api('POST', '/v1/subscriptions', { name: 'carts', url, secret, views: ['cart'] });
    expect(status).toBe(201);
    expect(answer).toMatchObject({ name: 'carts', views: ['cart'] });
    const customers = ['vc-a', 'vc-b', 'vc-c', 'vc-d'];
    let traced = 0;
    const tracedKeys = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ customer: fc.constantFrom(...customers), sku: fc.constantFrom(...skus), add: fc.boolean(), quantity: fc.integer({ min: 1, max: 3 }), traced: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        // All at once: rounds of the deliverer then hold several changes of a cart.
        async (changes) => {
          await Promise.all(
            changes.map((change) => {
              const event = cartChange(change.add ? 'added' : 'removed', change.customer, change.sku, change.quantity);
              const trace = change.traced ? traceOf(++traced) : undefined;
              if (trace) tracedKeys.set(trace, change.customer);
              return append([event], trace ? { traceparent: trace } : {});
            }),
          );
        },
      ),
      { numRuns: 8 },
    );
    await settledTo(customers, () => receiver.received);
    expect(receiver.badSignatures).toBe(0);
    const byKey = new Map<string, CartChange[]>();
    for (const { type, subject, data } of receiver.received) {
      expect(type).toBe(viewChangedType);
      const change = data as CartChange;
      expect([change.view, subject]).toEqual(['cart', `cart/${change.key}`]);
      byKey.set(change.key, [...(byKey.get(change.key) ?? []), change]);
    }
    // Per key, each value reflects at least what the one before it did.
    for (const changes of byKey.values()) {
      for (let i = 1; i < changes.length; i++) expect(frontierCovers(decodeToken(changes[i]!.token), decodeToken(changes[i - 1]!.token))).toBe(true);
    }
    // A trace arrives only on a change of the cart its append changed (a change may carry the newest of several).
    const traces = receiver.received.filter((delivery) => delivery.traceparent !== undefined);
    expect(traces.length).toBeGreaterThan(0);
    for (const { traceparent, data } of traces) expect(tracedKeys.get(traceparent!)).toBe((data as CartChange).key);
  });

  it('goes on after a restart from its checkpoint, and refuses a start that no longer streams its view', async () => {
    await service.close();
    await expect(startService(serviceOptions([]))).rejects.toMatchObject({ code: 'not_streamed' });
    service = await startService(serviceOptions(['cart']));
    await service.changes!.ready;
    await append([cartChange('added', 'vc-after', skus[0]!, 2)]);
    await settledTo(['vc-a', 'vc-b', 'vc-c', 'vc-d', 'vc-after'], () => receiver.received);
  });

  it('pushes the trace of an append over /v1/live, and none for an untraced one', async () => {
    const customer = 'vc-live';
    const client = await LiveClient.open(`${service.url.replace('http', 'ws')}/v1/live`);
    try {
      client.send({ op: 'subscribe', view: 'cart', key: customer, ref: 's' });
      await client.next((frame) => frame.op === 'view' && frame.key === customer);
      const overHttp = traceOf(9001);
      await append([cartChange('added', customer, skus[0]!, 1)], { traceparent: overHttp });
      const first = await client.next((frame) => frame.op === 'view' && (frame.value as { itemCount: number }).itemCount === 1);
      expect(first.traceparent).toBe(overHttp);
      const overLive = traceOf(9002);
      client.send({ op: 'append', ref: 'a', traceparent: overLive, events: [cartChange('added', customer, skus[1]!, 1)] });
      const second = await client.next((frame) => frame.op === 'view' && (frame.value as { itemCount: number }).itemCount === 2);
      expect(second.traceparent).toBe(overLive);
      await append([cartChange('added', customer, skus[2]!, 1)]);
      const third = await client.next((frame) => frame.op === 'view' && (frame.value as { itemCount: number }).itemCount === 3);
      expect(third.traceparent).toBeUndefined();
      client.send({ op: 'append', ref: 'bad', traceparent: 7, events: [] });
      const refused = await client.next((frame) => frame.op === 'error' && frame.ref === 'bad');
      expect(refused.error).toMatchObject({ code: 'bad_frame', path: '/traceparent' });
    } finally {
      client.close();
    }
  });
});
