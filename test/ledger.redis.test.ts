import { afterAll, describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import { ledgerBackend } from '../backends/redis/redisLedgerBackend.js';
import type { CloudEvent } from '../ledger/types.js';
import { ledgerContract } from './contract/ledger.contract.js';
import { dropRedisKeys, redisUrl, uniqueName } from './support/redis.js';

ledgerContract(
  'Redis Streams',
  async (streams, route) => {
    const config = { url: redisUrl, name: uniqueName('ledger'), create: true };
    return {
      ledger: await ledgerBackend.open(config, { streams, route }),
      reopen: () => ledgerBackend.open(config, { streams, route }),
      openReader: () => ledgerBackend.openReader(config, route),
      cleanup: () => dropRedisKeys(config.name),
    };
  },
  ledgerBackend.capabilities,
);

describe('RedisLedger', () => {
  const streams = [{ name: 'orders', shards: 2 }];
  const route = (): string => 'orders';
  const names: string[] = [];
  const config = (create = true) => {
    const name = uniqueName('redis-ledger');
    names.push(name);
    return { url: redisUrl, name, create };
  };
  afterAll(async () => {
    for (const name of names) await dropRedisKeys(name);
  });

  it('refuses an unreachable Redis in one error naming the flag and the address', async () => {
    const error = await ledgerBackend.open({ url: 'redis://127.0.0.1:1/0', name: 'x', create: true }, { streams, route }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FoldlineError);
    expect(error).toMatchObject({ code: 'backend_unreachable' });
    expect((error as Error).message).toContain('redis://127.0.0.1:1/0 (--redis-url)');
  });

  it('creates a ledger only when allowed, and keeps the layout it was created with', async () => {
    const absent = config(false);
    expect(await ledgerBackend.open(absent, { streams, route }).catch((e: FoldlineError) => e.code)).toBe('no_layout');
    const present = config();
    const ledger = await ledgerBackend.open(present, { streams, route });
    await ledger.close();
    const other = await ledgerBackend.open(present, { streams: [{ name: 'orders', shards: 3 }], route }).catch((e: FoldlineError) => e);
    expect(other).toMatchObject({ code: 'layout_mismatch' });
    const reader = await ledgerBackend.openReader({ ...present, create: false }, route);
    expect(reader.streams).toEqual(streams);
    await reader.close();
  });

  it('keeps deployments of different names apart in one Redis', async () => {
    const event: CloudEvent = { specversion: '1.0', id: 'one', source: 's', type: 'orders.placed', time: '2024-01-01T00:00:00.000Z', subject: 'k', data: {} };
    const [a, b] = await Promise.all([ledgerBackend.open(config(), { streams, route }), ledgerBackend.open(config(), { streams, route })]);
    const first = await a.append([event]);
    const second = await b.append([event]);
    expect(first.receipts[0]!.duplicate).toBe(false);
    expect(second.receipts[0]).toEqual(first.receipts[0]);
    await Promise.all([a.close(), b.close()]);
  });
});
