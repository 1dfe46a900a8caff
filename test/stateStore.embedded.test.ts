import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { storeBackend } from '../projections/embeddedStoreBackend.js';
import type { DeadLetter, StateStore } from '../projections/types.js';
import { stateStoreContract } from './contract/stateStore.contract.js';

stateStoreContract(
  'embedded (LMDB)',
  async () => {
    const path = await mkdtemp(join(tmpdir(), 'foldline-store-'));
    let store: StateStore = await storeBackend.open({ path });
    return {
      store,
      reopen: async () => {
        await store.close();
        store = await storeBackend.open({ path });
        return store;
      },
      dispose: async () => {
        await store.close();
        await rm(path, { recursive: true, force: true });
      },
    };
  },
  storeBackend.capabilities,
  { blobs: true },
);

describe('adoptProjections (a rebuild of some projections taking over)', () => {
  const consumer = 'views';
  const letter = (projection: string, seq: string, reason: string): DeadLetter => ({
    consumer,
    projection,
    key: 'k',
    position: 's/0',
    seq,
    event: { specversion: '1.0', id: `e${seq}`, source: '/t', type: 't', subject: 'k', time: '2026-12-05T00:00:00.000Z', data: {} },
    reason,
    at: '2026-12-05T00:00:00.000Z',
  });
  const entities = (namespace: string, from: number, count: number, value: string) =>
    Array.from({ length: count }, (_, i) => ({ namespace, key: `key-${String(from + i).padStart(6, '0')}`, record: { state: value, frontier: { 's/0': String(from + i + 1) } } }));

  it("puts the other store's states and dead letters of those projections in place of its own, keeps the rest, and sets the checkpoint", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foldline-adopt-'));
    const live = new EmbeddedStore({ path: join(dir, 'live') });
    const rebuilt = new EmbeddedStore({ path: join(dir, 'rebuilt') });
    try {
      // More keys than a transaction of the switch takes, on both sides, overlapping in part.
      await live.commit({ consumer, entities: [...entities('a', 0, 25_000, 'old'), ...entities('b', 0, 10, 'kept')], checkpoint: { frontier: { 's/0': '90' }, recentIds: ['x'] }, deadLetters: [letter('a', '3', 'old'), letter('b', '4', 'kept')] });
      await rebuilt.commit({ consumer, entities: entities('a', 20_000, 12_000, 'new'), checkpoint: { frontier: { 's/0': '70' }, recentIds: [] }, deadLetters: [letter('a', '5', 'new')] });
      await live.adoptProjections(rebuilt, consumer, ['a'], { frontier: { 's/0': '70' }, recentIds: [] });

      const keysOf = async (namespace: string): Promise<string[]> => {
        const keys: string[] = [];
        for await (const key of live.keys(namespace)) keys.push(key);
        return keys;
      };
      expect(await keysOf('a')).toEqual(entities('a', 20_000, 12_000, '').map(({ key }) => key));
      expect((await live.get('a', 'key-031999'))?.state).toBe('new');
      expect(await live.get('a', 'key-000000')).toBeUndefined();
      expect(await keysOf('b')).toHaveLength(10);
      expect((await live.get('b', 'key-000009'))?.state).toBe('kept');
      expect((await live.deadLetters(consumer)).map(({ projection, reason }) => `${projection}:${reason}`).sort()).toEqual(['a:new', 'b:kept']);
      expect(await live.checkpoint(consumer)).toEqual({ frontier: { 's/0': '70' }, recentIds: [] });
    } finally {
      await live.close();
      await rebuilt.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
