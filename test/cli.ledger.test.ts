import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent, Receipt } from '../ledger/types.js';
import { retailDomain } from '../retail/domain.js';
import { startService } from '../service/service.js';
import { runFoldline } from './support/cliProcess.js';

const foldline = (args: string[], input = '') => runFoldline(args, { input });

function cartEvent(id: string, customerId: string, quantity = 1): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'cli-test',
    type: 'retail.cart.item-added',
    time: '2024-01-01T00:00:00.000Z',
    subject: customerId,
    data: { customerId, sku: 'sku-1', quantity },
  };
}

const ndjson = (lines: unknown[]): string => lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n';
const parseLines = <T>(text: string): T[] => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

describe('foldline ledger', () => {
  let data: string;
  beforeEach(async () => {
    data = await mkdtemp(join(tmpdir(), 'foldline-cli-'));
  });
  afterEach(async () => {
    await rm(data, { recursive: true, force: true });
  });

  it('explains append and read with --help', async () => {
    const [append, read] = await Promise.all([foldline(['ledger', 'append', '--help']), foldline(['ledger', 'read', '--help'])]);
    expect(append.code).toBe(0);
    expect(append.stdout).toContain('--data <dir>');
    expect(append.stdout).toContain('--shards <n>');
    expect(append.stdout).toContain('line number');
    expect(read.code).toBe(0);
    for (const option of ['--stream <name>', '--shard <n>', '--after <seq>']) expect(read.stdout).toContain(option);
  });

  it('appends NDJSON with receipts in input order, then reads the records back', async () => {
    const events = Array.from({ length: 30 }, (_, i) => cartEvent(`e${i}`, `c${i % 7}`));
    const appended = await foldline(['ledger', 'append', '--data', data, '--shards', '2', '-'], ndjson([...events, '', events[3]]));
    expect(appended.stderr).toBe('');
    expect(appended.code).toBe(0);
    const receipts = parseLines<Receipt>(appended.stdout);
    expect(receipts.map((r) => r.id)).toEqual([...events.map((e) => e.id), 'e3']);
    expect(receipts[30]).toEqual({ ...receipts[3]!, duplicate: true });

    const read = await foldline(['ledger', 'read', '--data', data, '--stream', 'customer']);
    expect(read.code).toBe(0);
    const records = parseLines<{ stream: string; shard: number; seq: string; event: CloudEvent }>(read.stdout);
    expect(records.map((r) => r.event.id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const record of records) {
      expect(receipts.find((r) => r.id === record.event.id)).toMatchObject({ stream: record.stream, shard: record.shard, seq: record.seq });
    }

    const { shard, seq } = receipts[0]!;
    const after = await foldline(['ledger', 'read', '--data', data, '--stream', 'customer', '--shard', String(shard), '--after', seq]);
    const tail = parseLines<{ shard: number; seq: string }>(after.stdout);
    expect(tail.every((r) => r.shard === shard && Number(r.seq) > Number(seq))).toBe(true);
    expect(tail).toHaveLength(records.filter((r) => r.shard === shard).length - Number(seq));
  });

  it('appends to the ledger foldline start serves from the same data directory', async () => {
    const events = [cartEvent('s1', 'c-served', 2), cartEvent('s2', 'c-served', 3)];
    expect((await foldline(['ledger', 'append', '--data', data], ndjson(events))).code).toBe(0);
    const service = await startService({ domain: retailDomain, dataDir: data, host: '127.0.0.1', port: 0, shards: 4, logger: pino({ level: 'silent' }) });
    try {
      await service.runtime.catchUp();
      const cart = await service.views.read('cart', 'c-served');
      expect(cart.value).toMatchObject({ customerId: 'c-served', itemCount: 5 });
    } finally {
      await service.close();
    }
  });

  it('stops at a bad line, naming it, and keeps the lines before it', async () => {
    const first = cartEvent('a1', 'c1');
    const conflicting = { ...first, data: { ...first.data, quantity: 9 } };
    const notJson = await foldline(['ledger', 'append', '--data', data], ndjson([first, cartEvent('a2', 'c2'), '{"id": oops', cartEvent('a3', 'c3')]));
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/line 3: not JSON/);
    expect(parseLines<Receipt>(notJson.stdout).map((r) => r.id)).toEqual(['a1', 'a2']);

    const conflict = await foldline(['ledger', 'append', '--data', data], ndjson([cartEvent('a4', 'c4'), conflicting, cartEvent('a5', 'c5'), { id: 'x' }]));
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/line 2: .*already appended with different content/);
    expect(parseLines<Receipt>(conflict.stdout).map((r) => r.id)).toEqual(['a4']);

    const read = await foldline(['ledger', 'read', '--data', data, '--stream', 'customer']);
    expect(parseLines<{ event: CloudEvent }>(read.stdout).map((r) => r.event.id).sort()).toEqual(['a1', 'a2', 'a4']);
  });

  it('refuses events that are not valid retail CloudEvents, as the gateway does', async () => {
    const unknownType = await foldline(['ledger', 'append', '--data', data], ndjson([{ ...cartEvent('u1', 'c1'), type: 'retail.unknown' }]));
    expect(unknownType.code).toBe(1);
    expect(unknownType.stderr).toMatch(/line 1: unknown event type "retail.unknown"/);
    const noSubject = await foldline(['ledger', 'append', '--data', data], ndjson(['[1,2]', { id: 'n1' }]));
    expect(noSubject.code).toBe(1);
    expect(noSubject.stderr).toMatch(/line 1: an event must be a JSON object/);
    const badQuantity = await foldline(['ledger', 'append', '--data', data], ndjson([{ ...cartEvent('q1', 'c1'), data: { customerId: 'c1', sku: 'sku-1', quantity: 0 } }]));
    expect(badQuantity.code).toBe(1);
    expect(badQuantity.stderr).toMatch(/line 1: \/data\/quantity must be >= 1/);
  });
});
