import { open as lmdbOpen } from 'lmdb';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import { ledgerBackend } from '../ledger/embeddedBackend.js';
import { EmbeddedLedger, type EmbeddedLedgerOptions } from '../ledger/embeddedLedger.js';
import type { CloudEvent } from '../ledger/types.js';
import { ledgerContract } from './contract/ledger.contract.js';

ledgerContract(
  'embedded (LMDB)',
  async (streams, route) => {
    const path = await mkdtemp(join(tmpdir(), 'foldline-ledger-'));
    return {
      ledger: await ledgerBackend.open({ path }, { streams, route }),
      reopen: () => ledgerBackend.open({ path }, { streams, route }),
      openReader: () => ledgerBackend.openReader({ path }, route),
      cleanup: () => rm(path, { recursive: true, force: true }),
    };
  },
  ledgerBackend.capabilities,
);

describe('EmbeddedLedger', () => {
  const streams = [{ name: 'orders', shards: 2 }];
  const route = (): string => 'orders';
  const event = (id: string, subject = 's', data: Record<string, unknown> = {}): CloudEvent => ({
    specversion: '1.0',
    id,
    source: 'embedded-test',
    type: 'orders.placed',
    time: '2024-01-01T00:00:00.000Z',
    subject,
    data,
  });
  let path: string;
  const open: EmbeddedLedger[] = [];
  const openLedger = async (options: Partial<EmbeddedLedgerOptions> = {}): Promise<EmbeddedLedger> => {
    const ledger = await EmbeddedLedger.open({ path, streams, route, ...options });
    open.push(ledger);
    return ledger;
  };
  const codeOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'resolved',
      (error: unknown) => (error instanceof FoldlineError ? error.code : error),
    );

  beforeEach(async () => {
    path = await mkdtemp(join(tmpdir(), 'foldline-ledger-'));
  });
  afterEach(async () => {
    for (const ledger of open.splice(0)) await ledger.close();
    await rm(path, { recursive: true, force: true });
  });

  it('refuses appends to a reader', async () => {
    await openLedger();
    const reader = await EmbeddedLedger.openReader({ path, route });
    open.push(reader);
    expect(await codeOf(reader.append([event('r-0')]))).toBe('read_only');
  });

  it('lets one ledger own a data directory at a time', async () => {
    const first = await openLedger();
    expect(await codeOf(openLedger())).toBe('locked');
    await first.close();
    await openLedger();
  });

  it('takes over the lock of a process that died', async () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'foldline.lock'), child.stdout);
    const ledger = await openLedger();
    expect((await ledger.append([event('a')])).receipts[0]!.seq).toBe('1');
  });

  it('keeps the layout it was created with', async () => {
    await (await openLedger()).close();
    expect(await codeOf(openLedger({ streams: [{ name: 'orders', shards: 3 }] }))).toBe('layout_mismatch');
    const stored = await openLedger({ streams: undefined });
    expect(stored.streams).toEqual(streams);
  });

  it('refuses a directory whose record blocks are of an earlier format', async () => {
    // As an earlier foldline left it: a layout, and no block format (its blocks were MessagePack).
    const root = lmdbOpen({ path, maxDbs: 3 });
    await root.openDB<string, string>('meta', { encoding: 'string' }).put('layout', JSON.stringify(streams));
    await root.close();
    expect(await codeOf(openLedger())).toBe('unsupported_format');
  });

  it('needs a layout to create a ledger', async () => {
    expect(await codeOf(openLedger({ streams: undefined }))).toBe('no_layout');
    expect(await codeOf(openLedger({ streams: [{ name: 'orders', shards: 0 }] }))).toBe('bad_layout');
  });

  it('reads from any position inside groups larger than a block', async () => {
    const ledger = await openLedger();
    const events = Array.from({ length: 2600 }, (_, i) => event(`big${i}`, 'one', { i }));
    await ledger.append(events.slice(0, 100));
    const { receipts } = await ledger.append(events.slice(100));
    const shard = receipts[0]!.shard;
    expect(receipts[2499]!.seq).toBe('2600');
    for (const after of [null, '99', '100', '999', '1000', '1099', '1100', '1101', '2599']) {
      const page = await ledger.read('orders', shard, after, 3);
      const first = after === null ? 0 : Number(after);
      expect(page.map((r) => r.seq)).toEqual([first + 1, first + 2, first + 3].filter((n) => n <= 2600).map(String));
      expect(page.map((r) => r.event.id)).toEqual(events.slice(first, first + 3).map((e) => e.id));
    }
  });

  it('dedups events whose identity is longer than an LMDB key', async () => {
    const ledger = await openLedger();
    const long = event('x'.repeat(3000));
    const first = await ledger.append([long]);
    await ledger.close();
    const reopened = await openLedger();
    expect((await reopened.append([structuredClone(long)])).receipts[0]).toEqual({ ...first.receipts[0]!, duplicate: true });
    expect(await codeOf(reopened.append([{ ...long, data: { other: true } }]))).toBe('conflict');
  });

  it('refuses a position that is not a sequence number', async () => {
    const ledger = await openLedger();
    expect(await codeOf(ledger.read('orders', 0, '01'))).toBe('bad_position');
  });
});
