import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, dict, frontier } from '../../crdt/index.js';
import type { CloudEvent } from '../../ledger/types.js';
import type { Checkpoint, DeadLetter, EntityRecord, StateCommit, StateStore } from '../../projections/types.js';

export interface StoreFixture {
  store: StateStore;
  /** Closes `store` and opens another on the same data; only durable stores have it. */
  reopen?: () => Promise<StateStore>;
  /** Closes whatever store is open and removes its data. */
  dispose(): Promise<void>;
}

const text = canonicalJson;

function record(value: unknown, position = 'orders/0', seq = '1'): EntityRecord {
  const f = frontier();
  f[position] = seq;
  return { state: value, frontier: f };
}

function checkpointOf(seq: string, recentIds: string[] = []): Checkpoint {
  const f = frontier();
  f['orders/0'] = seq;
  return { frontier: f, recentIds };
}

function event(id: string): CloudEvent {
  return { specversion: '1.0', id, source: 'test', type: 't', time: '2024-01-01T00:00:00Z', subject: 's', data: { n: 1 } };
}

function letter(consumer: string, position: string, seq: string, key = 'k'): DeadLetter {
  return { consumer, projection: 'p', key, position, seq, event: event(`${position}:${seq}`), reason: 'boom', at: '2024-01-01T00:00:00.000Z' };
}

function commitOf(consumer: string, entities: StateCommit['entities'], checkpoint = checkpointOf('1'), deadLetters: DeadLetter[] = []): StateCommit {
  return { consumer, entities, checkpoint, deadLetters };
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const key of keys) all.push(key);
  return all;
}

/**
 * The behaviour every StateStore adapter must show. A `durable` store must also keep
 * everything across a reopen (its fixture then has `reopen`).
 */
export function stateStoreContract(name: string, makeStore: () => Promise<StoreFixture>, options: { durable?: boolean } = {}): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: StateStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('answers nothing for what was never committed', async () => {
      expect(await store.get('ns', 'k')).toBeUndefined();
      expect(await store.getMany('ns', ['a', 'b'])).toEqual([undefined, undefined]);
      expect(await collect(store.keys('ns'))).toEqual([]);
      expect(await store.checkpoint('c')).toBeUndefined();
      expect(await store.deadLetters('c')).toEqual([]);
    });

    it('returns committed records by namespace and key, each caller its own copy', async () => {
      await store.commit(commitOf('c', [
        { namespace: 'ns', key: 'a', record: record({ n: 1, list: ['x'] }) },
        { namespace: 'ns', key: 'b', record: record({ n: 2 }, 'orders/3', '18446744073709551617') },
        { namespace: 'other', key: 'a', record: record({ n: 3 }) },
      ]));
      const a = await store.get<{ n: number; list: string[] }>('ns', 'a');
      expect(text(a)).toBe(text(record({ n: 1, list: ['x'] })));
      a!.state.list.push('mutated');
      expect(text(await store.get('ns', 'a'))).toBe(text(record({ n: 1, list: ['x'] })));
      const many = await store.getMany('ns', ['b', 'missing', 'a']);
      expect(many.map((r) => r && text(r))).toEqual([text(record({ n: 2 }, 'orders/3', '18446744073709551617')), undefined, text(record({ n: 1, list: ['x'] }))]);
      expect(text(await store.get('other', 'a'))).toBe(text(record({ n: 3 })));
    });

    it('overwrites a record with a later commit', async () => {
      await store.commit(commitOf('c', [{ namespace: 'ns', key: 'a', record: record(1) }]));
      await store.commit(commitOf('c', [{ namespace: 'ns', key: 'a', record: record(2, 'orders/0', '2') }], checkpointOf('2')));
      expect(text(await store.get('ns', 'a'))).toBe(text(record(2, 'orders/0', '2')));
    });

    it('lists the keys of one namespace in plain string order', async () => {
      // UTF-16 order puts the astral emoji (D83D…) before U+FFFF; code point order would not.
      const keys = ['b', 'a', '\u{1F600}', '\uffff', '', 'a\u0000', 'a\u0000b', '__proto__', 'constructor', 'ab'];
      await store.commit(commitOf('c', [
        ...keys.map((key) => ({ namespace: 'ns', key, record: record(key) })),
        { namespace: 'ns\u0000', key: 'x', record: record('x') },
        { namespace: 'n', key: 's', record: record('s') },
        { namespace: 'nsa', key: 'y', record: record('y') },
      ]));
      expect(await collect(store.keys('ns'))).toEqual([...keys].sort());
      expect(await collect(store.keys('ns\u0000'))).toEqual(['x']);
      expect(await collect(store.keys('n'))).toEqual(['s']);
    });

    it('keeps hostile names as data: namespaces, keys, consumers and state members', async () => {
      const state = dict<unknown>();
      state['__proto__'] = { polluted: true };
      state['constructor'] = 'c';
      const nested = dict<number>();
      nested['__proto__'] = 1;
      state['nested'] = nested;
      await store.commit(commitOf('__proto__', [
        { namespace: '__proto__', key: 'constructor', record: record(state) },
        { namespace: 'constructor', key: '__proto__', record: record('plain') },
      ], checkpointOf('5', ['["__proto__","constructor"]'])));
      const back = await store.get<Record<string, unknown>>('__proto__', 'constructor');
      expect(Object.keys(back!.state).sort()).toEqual(['__proto__', 'constructor', 'nested']);
      expect(text(back!.state)).toBe(text(state));
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(text(await store.get('constructor', '__proto__'))).toBe(text(record('plain')));
      expect(await collect(store.keys('__proto__'))).toEqual(['constructor']);
      expect(text(await store.checkpoint('__proto__'))).toBe(text(checkpointOf('5', ['["__proto__","constructor"]'])));
      expect(await store.checkpoint('constructor')).toBeUndefined();
    });

    it('keeps one checkpoint per consumer, the latest committed', async () => {
      await store.commit(commitOf('one', [], checkpointOf('3', ['a'])));
      await store.commit(commitOf('two', [], checkpointOf('7')));
      await store.commit(commitOf('one', [], checkpointOf('4', ['a', 'b'])));
      expect(text(await store.checkpoint('one'))).toBe(text(checkpointOf('4', ['a', 'b'])));
      expect(text(await store.checkpoint('two'))).toBe(text(checkpointOf('7')));
    });

    it('lists dead letters per consumer in ledger order, one per position, projection and key', async () => {
      await store.commit(commitOf('c', [], checkpointOf('1'), [letter('c', 'orders/1', '10'), letter('c', 'orders/1', '9')]));
      await store.commit(commitOf('d', [], checkpointOf('1'), [letter('d', 'orders/0', '1')]));
      await store.commit(commitOf('c', [], checkpointOf('2'), [letter('c', 'orders/0', '100'), letter('c', 'orders/1', '9'), letter('c', 'orders/1', '9', 'k2')]));
      const letters = await store.deadLetters('c');
      expect(letters.map((l) => [l.position, l.seq, l.key])).toEqual([
        ['orders/0', '100', 'k'],
        ['orders/1', '9', 'k'],
        ['orders/1', '9', 'k2'],
        ['orders/1', '10', 'k'],
      ]);
      expect(text(letters[1])).toBe(text(letter('c', 'orders/1', '9')));
      expect((await store.deadLetters('d')).map((l) => l.seq)).toEqual(['1']);
    });

    it('writes nothing of a commit that fails', async () => {
      await store.commit(commitOf('c', [{ namespace: 'ns', key: 'a', record: record('before') }], checkpointOf('1')));
      const failing = commitOf('c', [
        { namespace: 'ns', key: 'a', record: record('after') },
        { namespace: 'ns', key: 'b', record: record(Symbol('cannot be stored')) },
      ], checkpointOf('2'), [letter('c', 'orders/0', '2')]);
      await expect(store.commit(failing)).rejects.toThrow();
      expect(text(await store.get('ns', 'a'))).toBe(text(record('before')));
      expect(await store.get('ns', 'b')).toBeUndefined();
      expect(text(await store.checkpoint('c'))).toBe(text(checkpointOf('1')));
      expect(await store.deadLetters('c')).toEqual([]);
    });

    it('lets readers see a commit whole or not at all', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
      const commit = (generation: string): StateCommit =>
        commitOf('c', keys.map((key) => ({ namespace: 'ns', key, record: record(generation, 'orders/0', generation) })), checkpointOf(generation));
      await store.commit(commit('1'));
      let done = false;
      const pending = store.commit(commit('2')).finally(() => {
        done = true;
      });
      // Each read shows one generation whole, and once a reader saw the new one, no later
      // read shows the old one.
      const seen: string[] = [];
      do {
        const records = await store.getMany<string>('ns', keys);
        expect(new Set(records.map((r) => r!.state)).size).toBe(1);
        seen.push(records[0]!.state);
        seen.push((await store.checkpoint('c'))!.frontier['orders/0']!);
        await new Promise((resolve) => setImmediate(resolve));
      } while (!done);
      expect(seen.join('')).toMatch(/^1*2*$/);
      await pending;
      const after = await store.getMany<string>('ns', keys);
      expect(new Set(after.map((r) => r!.state))).toEqual(new Set(['2']));
    });

    if (options.durable) {
      it('keeps everything committed across a reopen', async () => {
        if (!fixture.reopen) throw new Error(`${name} is durable but its fixture cannot reopen`);
        const hostile = dict<number>();
        hostile['__proto__'] = 7;
        await store.commit(commitOf('c', [
          { namespace: 'ns', key: '__proto__', record: record(hostile) },
          { namespace: 'ns', key: 'b', record: record([1, 2]) },
        ], checkpointOf('9', ['x']), [letter('c', 'orders/0', '9')]));
        store = await fixture.reopen();
        expect(text(await store.get('ns', '__proto__'))).toBe(text(record(hostile)));
        expect(await collect(store.keys('ns'))).toEqual(['__proto__', 'b']);
        expect(text(await store.checkpoint('c'))).toBe(text(checkpointOf('9', ['x'])));
        expect((await store.deadLetters('c')).map((l) => l.seq)).toEqual(['9']);
      });
    }
  });
}
