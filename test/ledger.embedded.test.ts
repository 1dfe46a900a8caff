import { open as lmdbOpen } from 'lmdb';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import { ledgerBackend } from '../ledger/embeddedBackend.js';
import type { DurableBlock } from '../ledger/backend.js';
import { EmbeddedLedger, type EmbeddedLedgerOptions } from '../ledger/embeddedLedger.js';
import type { CloudEvent, LedgerRecord } from '../ledger/types.js';
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

  it('reads the blocks the writer handed from memory, not from its storage', async () => {
    const writer = await openLedger();
    const reader = await EmbeddedLedger.openReader({ path, route });
    open.push(reader);
    const { receipts, head } = await writer.append([event('handed-1', 'one'), event('handed-2', 'one')]);
    const { shard, seq } = receipts[1]!;
    // A block that differs from what was stored: only a read from memory returns it.
    const handed = [event('from-memory-1', 'one'), event('from-memory-2', 'one')];
    reader.refresh(head, [{ position: `orders/${shard}`, lastSeq: seq, count: 2, bytes: Buffer.from(JSON.stringify(handed)) }]);
    expect((await reader.read('orders', shard, null)).map((r) => r.event.id)).toEqual(['from-memory-1', 'from-memory-2']);
    // Past what was handed (a block it was not given), it reads its storage.
    const later = await writer.append([event('stored', 'one')]);
    reader.refresh(later.head);
    expect((await reader.read('orders', shard, seq)).map((r) => r.event.id)).toEqual(['stored']);
  });

  it('reads the same records whichever of the blocks the writer hands it, in pages of any size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ subjects: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }), handed: fc.boolean(), page: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 8 }),
        async (commits) => {
          const dir = await mkdtemp(join(tmpdir(), 'foldline-ledger-handed-'));
          const writer = await EmbeddedLedger.open({ path: dir, streams, route });
          const reader = await EmbeddedLedger.openReader({ path: dir, route });
          try {
            const told: Array<{ blocks: readonly DurableBlock[] }> = [];
            writer.onDurable((_head, blocks) => told.push({ blocks }));
            const read: LedgerRecord[][] = [[], []];
            const readPage = async (shard: number, page: number): Promise<void> => {
              const after = read[shard]!.at(-1)?.seq ?? null;
              const got = await reader.read('orders', shard, after, page);
              expect(got).toEqual(await writer.read('orders', shard, after, page));
              read[shard]!.push(...got);
            };
            let serial = 0;
            for (const { subjects, handed, page } of commits) {
              const { head } = await writer.append(subjects.map((subject) => event(`p${++serial}`, subject)));
              reader.refresh(head, handed ? told.at(-1)!.blocks : []);
              // A page of 0: the reader lags this time.
              if (page > 0) for (const shard of [0, 1]) await readPage(shard, page);
            }
            for (const shard of [0, 1]) {
              for (let before = -1; before !== read[shard]!.length; ) {
                before = read[shard]!.length;
                await readPage(shard, 3);
              }
              expect(read[shard]).toEqual(await writer.read('orders', shard, null, 1000));
            }
          } finally {
            await reader.close();
            await writer.close();
            await rm(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
