import { setImmediate } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { positionKey } from '../crdt/index.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import type { CloudEvent } from '../ledger/types.js';

/* The memory ledger with identity dedup off: an at-least-once source for consumer tests. */

const streams = [{ name: 'docs', shards: 2 }];

function atLeastOnceLedger(): MemoryLedger {
  return new MemoryLedger({ streams, route: (event) => event.type, identityDedup: false });
}

function event(id: string, data: Record<string, unknown> = {}, type = 'docs'): CloudEvent {
  return { specversion: '1.0', id, source: 'test', type, time: '2024-01-01T00:00:00.000Z', subject: 'doc', data };
}

describe('MemoryLedger without identity dedup', () => {
  it('appends a repeated (source, id) again at a new position, within a batch and across batches', async () => {
    const ledger = atLeastOnceLedger();
    const first = await ledger.append([event('a'), event('a')]);
    const second = await ledger.append([event('a')]);
    const receipts = [...first.receipts, ...second.receipts];
    expect(receipts.map(({ seq, duplicate }) => ({ seq, duplicate }))).toEqual([
      { seq: '1', duplicate: false },
      { seq: '2', duplicate: false },
      { seq: '3', duplicate: false },
    ]);
    const { shard } = receipts[0]!;
    expect((await ledger.read('docs', shard, null)).map((record) => [record.seq, record.event])).toEqual([
      ['1', event('a')],
      ['2', event('a')],
      ['3', event('a')],
    ]);
    expect(second.head).toEqual({ [positionKey('docs', shard)]: '3' });
  });

  it('takes an id reused with other content as one more event', async () => {
    const ledger = atLeastOnceLedger();
    await ledger.append([event('a', { n: 1 })]);
    const { receipts } = await ledger.append([event('a', { n: 2 })]);
    expect(receipts[0]).toMatchObject({ seq: '2', duplicate: false });
    expect((await ledger.read('docs', receipts[0]!.shard, '1'))[0]!.event.data).toEqual({ n: 2 });
  });

  it('still refuses a batch with an event of an unknown stream, appending nothing of it', async () => {
    const ledger = atLeastOnceLedger();
    await expect(ledger.append([event('a'), event('b', {}, 'gamma')])).rejects.toMatchObject({ code: 'unknown_stream' });
    expect(await ledger.head()).toEqual({});
  });

  it('wakes a waiter when a repeat lands past its frontier', async () => {
    const ledger = atLeastOnceLedger();
    const { head } = await ledger.append([event('a')]);
    let woken = false;
    const waiting = ledger.waitForAppend(['docs'], head, new AbortController().signal).then(() => (woken = true));
    await setImmediate();
    expect(woken).toBe(false);
    await ledger.append([event('a')]);
    expect(await waiting).toBe(true);
  });
});
