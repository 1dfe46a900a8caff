import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTime } from '../crdt/stamp.js';
import type { CloudEvent } from '../ledger/types.js';
import { generateEvents } from '../retail/generator.js';
import { validateEvent } from '../retail/validation.js';
import { retailEventTypes } from '../retail/catalogue.js';

const run = promisify(execFile);
const foldline = fileURLToPath(new URL('../bin/foldline.js', import.meta.url));

function ndjson(seed: number, events: number): string {
  let text = '';
  for (const event of generateEvents({ seed, events })) text += `${JSON.stringify(event)}\n`;
  return text;
}

describe('generateEvents', () => {
  it('gives byte-identical output for the same seed, and another for another seed', () => {
    const first = ndjson(42, 3000);
    expect(ndjson(42, 3000)).toBe(first);
    expect(ndjson(43, 3000)).not.toBe(first);
  });

  it('property: the first n events of a seed do not depend on how many are asked for', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(400), fc.nat(400), (seed, n, more) => {
        expect(ndjson(seed, n + more).startsWith(ndjson(seed, n))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  describe('20,000 events of seed 1', () => {
    const events: CloudEvent[] = [...generateEvents({ seed: 1, events: 20_000 })];
    const ofType = (type: string) => events.filter((e) => e.type === type);
    const data = <T>(event: CloudEvent) => event.data as T;

    it('are all valid, with unique ids', () => {
      for (const [index, event] of events.entries()) validateEvent(event, index);
      expect(events).toHaveLength(20_000);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    });

    it('hold every event type, mostly browsing', () => {
      const counts = new Map<string, number>();
      for (const event of events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual(Object.keys(retailEventTypes).sort());
      expect(counts.get('retail.customer.product-viewed')! / events.length).toBeGreaterThan(0.3);
      expect(counts.get('retail.order.placed')).toBeGreaterThan(200);
    });

    it('view products with Zipf popularity', () => {
      const views = new Map<string, number>();
      for (const event of ofType('retail.customer.product-viewed')) {
        const { sku } = data<{ sku: string }>(event);
        views.set(sku, (views.get(sku) ?? 0) + 1);
      }
      const ranked = [...views.values()].sort((a, b) => b - a);
      const total = ranked.reduce((a, b) => a + b, 0);
      const top = ranked.slice(0, Math.ceil(ranked.length / 10)).reduce((a, b) => a + b, 0);
      expect(ranked[0]! / total).toBeGreaterThan(0.03);
      expect(top / total).toBeGreaterThan(0.4);
    });

    it('report assisted sales both before and after their order, and re-send some orders', () => {
      const placedAt = new Map<string, number>();
      const resent = new Set<string>();
      events.forEach((event, index) => {
        if (event.type !== 'retail.order.placed') return;
        const { orderId } = data<{ orderId: string }>(event);
        if (placedAt.has(orderId)) resent.add(orderId);
        else placedAt.set(orderId, index);
      });
      const sales = events.flatMap((event, index) =>
        event.type === 'retail.salesperson.sale-assisted' ? [{ index, orderId: data<{ orderId: string }>(event).orderId }] : [],
      );
      const settled = sales.filter((sale) => sale.index < events.length - 200);
      expect(settled.every((sale) => placedAt.has(sale.orderId))).toBe(true);
      expect(sales.some((sale) => sale.index < placedAt.get(sale.orderId)!)).toBe(true);
      expect(sales.some((sale) => sale.index > placedAt.get(sale.orderId)!)).toBe(true);
      expect(resent.size).toBeGreaterThan(0);
    });

    it('remove attributes with null, move salespeople between stores, carry shades', () => {
      const changes = ofType('retail.product.attributes-changed').map((e) => data<{ attributes: Record<string, unknown> }>(e).attributes);
      expect(changes.some((attributes) => Object.values(attributes).includes(null))).toBe(true);
      const stores = new Map<string, Set<string>>();
      for (const event of ofType('retail.salesperson.registered')) {
        const { salespersonId, store } = data<{ salespersonId: string; store: string }>(event);
        stores.set(salespersonId, (stores.get(salespersonId) ?? new Set()).add(store));
      }
      expect([...stores.values()].some((seen) => seen.size > 1)).toBe(true);
      const created = ofType('retail.product.created').map((e) => data<{ attributes?: Record<string, string> }>(e));
      expect(created.filter((p) => p.attributes?.shade !== undefined).length / created.length).toBeGreaterThan(0.3);
    });

    it('mostly increase in time, with a few late ones, some printed in store time zones', () => {
      let late = 0;
      let latest = 0;
      for (const event of events) {
        const time = parseTime(event.time);
        if (time < latest) late++;
        latest = Math.max(latest, time);
      }
      expect(late).toBeGreaterThan(0);
      expect(late / events.length).toBeLessThan(0.02);
      expect(events.some((e) => e.time.endsWith('-08:00'))).toBe(true);
      expect(events.some((e) => e.traceparent !== undefined)).toBe(true);
      expect(events.some((e) => e.datacontenttype === 'application/json')).toBe(true);
    });
  });
});

describe('foldline gen', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foldline-gen-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the generator NDJSON to stdout and to a gzipped file', async () => {
    const expected = ndjson(7, 5000);
    const { stdout } = await run(process.execPath, [foldline, 'gen', '--seed', '7', '--events', '5000'], { maxBuffer: 64 << 20 });
    expect(stdout).toBe(expected);
    const out = join(dir, 'events.ndjson.gz');
    await run(process.execPath, [foldline, 'gen', '--seed', '7', '--events', '5000', '--out', out]);
    expect(gunzipSync(await readFile(out)).toString('utf8')).toBe(expected);
  });

  it('writes plain NDJSON to a file not ending in .gz, with progress on stderr', async () => {
    const out = join(dir, 'events.ndjson');
    const { stderr } = await run(process.execPath, [foldline, 'gen', '--seed', '3', '--events', '100001', '--out', out]);
    expect(await readFile(out, 'utf8')).toBe(ndjson(3, 100_001));
    expect(stderr).toContain('gen: 100000/100001 events');
    expect(stderr).toMatch(/wrote 100001 events/);
  });

  it('documents itself and refuses a bad count', async () => {
    const { stdout } = await run(process.execPath, [foldline, 'gen', '--help']);
    expect(stdout).toMatch(/--seed <n>/);
    expect(stdout).toMatch(/--out <file>/);
    await expect(run(process.execPath, [foldline, 'gen', '--events', '1.5'])).rejects.toMatchObject({ code: 2 });
  });
});
