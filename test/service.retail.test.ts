import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../cli/serverProcess.js';
import { canonicalJson } from '../crdt/index.js';
import { encodeToken } from '../ledger/token.js';
import type { CloudEvent } from '../ledger/types.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import { startService, type Service } from '../service/service.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { cartChange, retailEvent } from './support/retailGateway.js';

/*
 * `foldline start` as users run it (embedded ledger and store on disk): bad input of every
 * kind is refused with nothing appended, and a restart serves the same views without
 * folding anything again.
 */
let dataDir: string;
let service: Service;
const silent = pino({ level: 'silent' });
const start = (): Promise<Service> => startService({ domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 4, logger: silent });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'foldline-service-'));
  service = await start();
});
afterAll(async () => {
  await service.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function post(body: string, contentType = 'application/cloudevents-batch+json'): Promise<{ status: number; answer: any }> {
  const response = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, answer: await response.json() };
}

const good = (): Record<string, unknown> => cartChange('added', 'c-1', 'sku-1', 1);
const withData = (data: Record<string, unknown>, subject = 'c-1'): Record<string, unknown> => retailEvent('retail.cart.item-added', subject, data);

describe('bad input to the retail service', () => {
  const cases: Array<[string, () => string, number, string, string | undefined]> = [
    ['malformed JSON', () => '[{"specversion": "1.0",', 400, 'malformed_json', undefined],
    ['a missing field', () => JSON.stringify([withData({ customerId: 'c-1', sku: 'sku-1' })]), 400, 'invalid_event', '/data/quantity'],
    ['an unknown field in data', () => JSON.stringify([withData({ customerId: 'c-1', sku: 'sku-1', quantity: 1, colour: 'red' })]), 400, 'invalid_event', '/data/colour'],
    ['a wrong type', () => JSON.stringify([withData({ customerId: 'c-1', sku: 'sku-1', quantity: '2' })]), 400, 'invalid_event', '/data/quantity'],
    ['a subject that is not the key', () => JSON.stringify([withData({ customerId: 'c-1', sku: 'sku-1', quantity: 1 }, 'c-2')]), 400, 'subject_mismatch', '/subject'],
    ['an unknown type', () => JSON.stringify([{ ...good(), type: 'retail.cart.item-stolen' }]), 400, 'unknown_type', '/type'],
    ['quantity below 1', () => JSON.stringify([withData({ customerId: 'c-1', sku: 'sku-1', quantity: 0 })]), 400, 'invalid_event', '/data/quantity'],
    ['a bad time', () => JSON.stringify([{ ...good(), time: '2024-02-30T00:00:00Z' }]), 400, 'bad_time', '/time'],
    ['a batch with one bad event', () => JSON.stringify([good(), good(), { ...good(), id: 42 }]), 400, 'invalid_event', '/id'],
    ['an oversized body', () => JSON.stringify([{ ...good(), padding: 'x'.repeat(9 * 1024 * 1024) }]), 413, 'body_too_large', undefined],
  ];

  for (const [name, body, status, code, path] of cases) {
    it(`refuses ${name} with ${status} ${code}, appends nothing and stays healthy`, async () => {
      const before = encodeToken(await service.ledger.head());
      const { status: got, answer } = await post(body());
      expect(got).toBe(status);
      expect(answer.error).toMatchObject({ code, ...(path === undefined ? {} : { path }) });
      expect(typeof answer.error.message).toBe('string');
      expect(encodeToken(await service.ledger.head())).toBe(before);
      expect((await fetch(`${service.url}/v1/health`)).status).toBe(200);
    });
  }

  it('refuses a view key no event can have (over 200 characters) with 400 bad_key, on reads and write-throughs', async () => {
    const long = 'c'.repeat(201);
    const read = await fetch(`${service.url}/v1/views/cart/${long}`);
    expect([read.status, (await read.json()).error]).toEqual([400, { code: 'bad_key', message: 'a view key is an id of 1 to 200 characters', path: '/key' }]);
    const before = encodeToken(await service.ledger.head());
    const response = await fetch(`${service.url}/v1/events?await=cart/${long}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify([good()]) });
    expect([response.status, (await response.json()).error]).toMatchObject([400, { code: 'bad_key', path: '/await' }]);
    expect(encodeToken(await service.ledger.head())).toBe(before);
    // 200 characters, 400 UTF-16 units: an id events may carry.
    const emoji = await fetch(`${service.url}/v1/views/cart/${encodeURIComponent('😀'.repeat(200))}`);
    expect(emoji.status).toBe(200);
  });

  it('names the index of the bad event in a batch', async () => {
    const { answer } = await post(JSON.stringify([good(), { ...good(), time: 'yesterday' }]));
    expect(answer.error).toMatchObject({ code: 'bad_time', index: 1, path: '/time' });
  });
});

describe('metrics', () => {
  it('serves the fold worker thread\'s metrics with the gateway\'s', async () => {
    const { status } = await post(JSON.stringify([cartChange('added', 'c-metrics', 'sku-1', 2)]));
    expect(status).toBe(202);
    await service.runtime.catchUp();
    // A batch is counted once its store commit lands, just after its changes are published.
    const scrape = async (): Promise<string> => (await fetch(`${service.url}/metrics`)).text();
    let text = await scrape();
    for (let tries = 0; tries < 100 && !/^foldline_projection_records_total\{/m.test(text); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await scrape();
    }
    expect(text).toMatch(/^foldline_http_requests_total\{/m);
    expect(text).toMatch(/^foldline_projection_records_total\{consumer="retail-views"\} [1-9]/m);
    expect(text).toMatch(/^foldline_projection_lag\{consumer="retail-views"\} 0$/m);
    expect(text).toMatch(/^foldline_fold_worker_reports_waiting 0$/m);
    // Both threads have run: neither CPU time is missing or zero.
    for (const thread of ['serving', 'fold-worker']) {
      const user = new RegExp(`^foldline_thread_cpu_seconds\\{thread="${thread}",mode="user"\\} ([0-9.e+-]+)$`, 'm').exec(text);
      expect(Number(user?.[1])).toBeGreaterThan(0);
      expect(text).toMatch(new RegExp(`^foldline_thread_cpu_seconds\\{thread="${thread}",mode="system"\\} [0-9]`, 'm'));
    }
  });
});

describe('a restart on the same data directory', () => {
  it('serves the same views and folds nothing again', async () => {
    const events: CloudEvent[] = [...generateEvents({ seed: 7, events: 3000 })];
    const { status, answer } = await post(JSON.stringify(events));
    expect(status).toBe(202);
    const keys = viewKeysOf(events);
    const read = async (token: string): Promise<string[]> =>
      Promise.all(
        keys.map(async ([view, key]) => {
          const response = await fetch(`${service.url}/v1/views/${view}/${encodeURIComponent(key)}?after=${token}&wait=20000`);
          expect(response.status).toBe(200);
          return canonicalJson(((await response.json()) as { value: unknown }).value);
        }),
      );
    const before = await read(answer.token);

    await service.close();
    service = await start();
    let folded = 0;
    service.runtime.onFolded((batch) => (folded += batch.entities.length));
    const after = await read(answer.token);
    expect(after).toEqual(before);
    // Give the tail loop time to show any refold it would do.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(folded).toBe(0);
    expect(encodeToken(service.runtime.frontier())).toBe(encodeToken(await service.ledger.head()));
  });
});

describe('foldline start and SIGTERM', () => {
  it('closes cleanly on a signal once it has opened its directory, during startup too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foldline-signal-'));
    const lock = join(dir, 'ledger', 'foldline.lock');
    try {
      // 0: as soon as the ledger is locked (the demo history is then being loaded); later: while serving.
      for (const afterLockMs of [0, 4000]) {
        const child = spawn(process.execPath, ['bin/foldline.js', 'start', '--data', dir, '--port', '0', '--demo'], { stdio: 'ignore', env: { ...process.env, FOLDLINE_LOG_LEVEL: 'silent' } });
        const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
        while (!existsSync(lock)) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, afterLockMs));
        child.kill('SIGTERM');
        expect({ afterLockMs, exit: await exited, locked: existsSync(lock) }).toEqual({ afterLockMs, exit: [0, null], locked: false });
      }
      const server = await startServer({ dataDir: dir });
      expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
      await server.stop({ keepData: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
