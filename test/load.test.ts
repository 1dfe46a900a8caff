import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type LoadReport } from '../client/load/runLoad.js';
import { EffectTracker } from '../client/load/tracker.js';
import { encodeToken } from '../ledger/token.js';
import { retailDomain } from '../retail/domain.js';
import { startService, type Service } from '../service/service.js';

describe('foldline load against a real server', () => {
  let dataDir: string;
  let service: Service;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'foldline-load-'));
    service = await startService({ domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 2, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await service?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const expectComplete = (report: LoadReport, sent: number): void => {
    expect(report.appends.sent).toBe(sent);
    expect(report.appends.failed).toBe(0);
    expect(report.appends.acknowledged).toBe(sent);
    expect(report.errors).toEqual({});
    expect(report.timeouts).toBe(0);
    // Every acknowledged append was seen by every subscriber of its view key.
    expect(report.latencyMs.count).toBe(report.expectedDeliveries);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p90);
    expect(report.latencyMs.p90).toBeLessThanOrEqual(report.latencyMs.p99);
    expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.max);
    expect(report.throughput.eventsPerSecond).toBeGreaterThan(0);
    // Pushes may be fewer than appends: two appends to one cart folded together are one push.
    expect(report.throughput.pushesPerSecond).toBeGreaterThan(0);
  };

  it('records a latency for every acknowledged cart append over HTTP', async () => {
    const lines: string[] = [];
    const report = await runLoad({ url: service.url, scenario: 'cart', rate: 20, durationSeconds: 2, subscribers: 4, catalogProducts: 10, progress: (line) => lines.push(line) });
    expectComplete(report, 40);
    expect(report.expectedDeliveries).toBe(40);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatch(/^load \d+s {2}sent \d+ {2}acked \d+ {2}pushes \d+ {2}p50 /);
  });

  it('fans out to every device of a customer, appending over the WebSocket, in the mixed scenario', async () => {
    const report = await runLoad({ url: service.url, scenario: 'mixed', rate: 20, durationSeconds: 1.5, subscribers: 6, customers: 3, append: 'ws', catalogProducts: 10 });
    expectComplete(report, 30);
    // Two sockets watch each customer: each append is owed to both.
    expect(report.expectedDeliveries).toBe(60);
  });

  it('leaves a warm-up out of the figures', async () => {
    const report = await runLoad({ url: service.url, scenario: 'cart', rate: 20, durationSeconds: 1, warmupSeconds: 1, subscribers: 4, catalogProducts: 10 });
    // Only the measured second's 20 appends, though 40 were sent.
    expectComplete(report, 20);
    expect(report.expectedDeliveries).toBe(20);
    expect(report.warmupSeconds).toBe(1);
  });

  it('refuses more customers than subscribers', async () => {
    await expect(runLoad({ url: service.url, scenario: 'cart', rate: 1, durationSeconds: 1, subscribers: 2, customers: 3 })).rejects.toMatchObject({ code: 'bad_option' });
  });
});

describe('EffectTracker', () => {
  const receipt = (shard: number, seq: string) => ({ id: `e-${seq}`, stream: 'customer', shard, seq, duplicate: false });
  const token = (frontier: Record<string, string>) => encodeToken(frontier);

  it('matches a push that came before the receipt, and ignores pushes that do not reflect it', () => {
    const recorded: number[] = [];
    const tracker = new EffectTracker((ms) => recorded.push(ms));
    const subscription = tracker.subscribe('cart/c-1');
    const ticket = tracker.sent('cart/c-1', 100);
    tracker.pushed(subscription, 105, token({ 'customer/0': '4' }));
    tracker.pushed(subscription, 107, token({ 'customer/0': '5' }));
    tracker.acknowledged(ticket, [receipt(0, '5')]);
    expect(recorded).toEqual([7]);
    expect(tracker.outstanding).toBe(0);
  });

  it('waits for a push that reflects every receipt of the append, then expires what never came', () => {
    const recorded: number[] = [];
    const tracker = new EffectTracker((ms) => recorded.push(ms));
    const subscription = tracker.subscribe('cart/c-1');
    const first = tracker.sent('cart/c-1', 10);
    const second = tracker.sent('cart/c-1', 20);
    tracker.acknowledged(first, [receipt(0, '3'), receipt(1, '9')]);
    tracker.acknowledged(second, [receipt(0, '12')]);
    tracker.pushed(subscription, 30, token({ 'customer/0': '3' }));
    expect(recorded).toEqual([]);
    tracker.pushed(subscription, 31, token({ 'customer/0': '3', 'customer/1': '9' }));
    expect(recorded).toEqual([21]);
    expect(tracker.outstanding).toBe(1);
    tracker.expire(25);
    expect(tracker.timeouts).toBe(1);
    expect(tracker.outstanding).toBe(0);
  });
});
