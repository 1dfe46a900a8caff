import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../gateway/server.js';
import type { Gateway } from '../gateway/types.js';
import { ViewExplainer, type Explanation } from '../joiner/explain.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import { decodeToken } from '../ledger/token.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { retailDomain } from '../retail/domain.js';
import { cartChange, productCreated } from './support/retailGateway.js';

/*
 * `GET /v1/views/{view}/{key}/explain` over a runtime that folds only when the test says
 * so: after an append and its fold, explain names the event behind the value; while the
 * fold is held back, it shows the lag on the entity's shard.
 */
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
let ledger: MemoryLedger;
let runtime: ProjectionRuntime;
let views: ViewEngine;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  ledger = new MemoryLedger({ streams: retailDomain.streams(2), route: retailDomain.route });
  // Never started: it folds only on catchUp, so the test holds the fold back at will.
  runtime = new ProjectionRuntime({ consumer: retailDomain.consumer, ledger, store: new MemoryStore(), projections: retailDomain.projections });
  views = new ViewEngine({ source: runtime, views: retailDomain.views });
  gateway = await startGateway({
    ledger,
    validate: retailDomain.validate,
    views,
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    explainer: new ViewExplainer({ engine: views, source: runtime, ledger, projections: retailDomain.projections }),
  });
  url = `http://127.0.0.1:${gateway.port}`;
});

afterAll(async () => {
  await gateway.close();
  views.close();
  await runtime.stop();
  await ledger.close();
});

async function append(events: Array<Record<string, unknown>>, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json', ...headers }, body: JSON.stringify(events) });
  expect(response.status).toBe(202);
}

async function explain(view: string, key: string): Promise<Explanation> {
  const response = await fetch(`${url}/v1/views/${view}/${key}/explain`);
  expect(response.status).toBe(200);
  return (await response.json()) as Explanation;
}

const entity = (explanation: Explanation, name: string, key: string) => explanation.entities.find((e) => e.entity === name && e.key === key)!;

describe('explain', () => {
  it('names the events behind a value, and the lag while the fold is held back', async () => {
    const product = productCreated('ex-sku', 1_500);
    const first = cartChange('added', 'ex-c', 'ex-sku', 1);
    await append([product]);
    await append([first], { traceparent });
    await runtime.catchUp();

    const caughtUp = await explain('cart', 'ex-c');
    expect(caughtUp.value).toMatchObject({ itemCount: 1 });
    expect(decodeToken(caughtUp.checkpoint)).toEqual(await ledger.head());
    const customer = entity(caughtUp, 'customer', 'ex-c');
    expect(customer.recent[0]).toMatchObject({ id: first['id'], source: first['source'], stream: 'customer', traceparent });
    expect(customer.lag).toBe(0);
    expect(customer.frontier).toEqual(customer.head);
    expect(entity(caughtUp, 'product', 'ex-sku').recent.map(({ id }) => id)).toEqual([product['id']]);

    // Held back: appended, not folded.
    const second = cartChange('added', 'ex-c', 'ex-sku', 2);
    await append([second]);
    const behind = await explain('cart', 'ex-c');
    expect(behind.value).toMatchObject({ itemCount: 1 });
    const lagging = entity(behind, 'customer', 'ex-c');
    expect(lagging.lag).toBe(1);
    const position = Object.keys(lagging.frontier)[0]!;
    expect(BigInt(lagging.head[position]!)).toBe(BigInt(lagging.folded[position]!) + 1n);
    expect(lagging.recent.map(({ id }) => id)).toEqual([first['id']]);

    await runtime.catchUp();
    const after = await explain('cart', 'ex-c');
    expect(after.value).toMatchObject({ itemCount: 3 });
    expect(entity(after, 'customer', 'ex-c')).toMatchObject({ lag: 0 });
    expect(entity(after, 'customer', 'ex-c').recent.map(({ id }) => id)).toEqual([second['id'], first['id']]);
  });
});
