import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, dict, frontier } from '../../crdt/index.js';
import type { CloudEvent } from '../../ledger/types.js';
import { hasBlobs, type BlobStore, type StoreCapabilities } from '../../projections/storeBackend.js';
import type { Checkpoint, DeadLetter, EntityRecord, StateCommit, StateStore } from '../../projections/types.js';

/*
 * The behaviour every StateStore adapter must show, as a function of its setup and of the
 * capabilities it claims (StoreCapabilities), as the Ledger contract is.
 *
 * What each flag gates:
 * - durable. The setup must give `reopen`; everything committed survives it.
 * - blobs (a capability that is methods, BlobStore, given apart from the flags): blobs by
 *   tuple key, listed and removed by prefix; with durable, they survive a reopen.
 * - atomicCommit. Claimed: a commit that fails writes nothing, and readers see a commit
 *   whole or not at all. Every adapter, whatever it claims, keeps the weaker promise the
 *   runtime relies on without it (StateStore in projections/types.ts): dead letters are
 *   written before entities and the checkpoint last, so a failed commit never leaves a
 *   checkpoint newer than the entities and dead letters it covers, nor an entity of it
 *   without its dead letters, and a reader that sees a commit's checkpoint sees all of it.
 */

export interface StoreFixture {
  store: StateStore;
  /** Closes `store` and opens another on the same data; required when `durable` is claimed. */
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

/** A dead letter that cannot be stored: its event holds a value with no encoding. */
function unstorableLetter(consumer: string, position: string, seq: string): DeadLetter {
  const stored = letter(consumer, position, seq);
  return { ...stored, event: { ...stored.event, data: { bad: Symbol('cannot be stored') } } };
}

function commitOf(consumer: string, entities: StateCommit['entities'], checkpoint = checkpointOf('1'), deadLetters: DeadLetter[] = []): StateCommit {
  return { consumer, entities, checkpoint, deadLetters };
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const key of keys) all.push(key);
  return all;
}

export type StoreSetup = () => Promise<StoreFixture>;

/** The keys the concurrent-read tests commit, each commit a generation of all of them. */
const generationKeys = Array.from({ length: 300 }, (_, i) => `k${i}`);

function generation(seq: string): StateCommit {
  return commitOf(
    'c',
    generationKeys.map((key) => ({ namespace: 'ns', key, record: record(seq, 'orders/0', seq) })),
    checkpointOf(seq),
    [letter('c', 'orders/0', seq)],
  );
}

/**
 * Reads the store again and again while generation 2 is committed over generation 1; the
 * last read follows the commit. Each read takes the checkpoint first, then the entities
 * and the dead letters.
 */
async function readsDuringCommit(store: StateStore): Promise<Array<{ checkpoint: string; states: string[]; letters: string[] }>> {
  await store.commit(generation('1'));
  let committed = false;
  const pending = store.commit(generation('2')).finally(() => (committed = true));
  const reads: Array<{ checkpoint: string; states: string[]; letters: string[] }> = [];
  for (;;) {
    const last = committed;
    const checkpoint = (await store.checkpoint('c'))!.frontier['orders/0']!;
    const states = (await store.getMany<string>('ns', generationKeys)).map((r) => r!.state);
    const letters = (await store.deadLetters('c')).map((l) => l.seq);
    reads.push({ checkpoint, states, letters });
    if (last) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await pending;
  return reads;
}

export function stateStoreContract(name: string, setup: StoreSetup, capabilities: StoreCapabilities, methods: { blobs: boolean } = { blobs: false }): void {
  const claims = Object.entries(capabilities)
    .map(([flag, claimed]) => `${claimed ? '' : 'no '}${flag}`)
    .join(', ');
  describe(`StateStore contract: ${name} (${claims})`, () => {
    let fixture: StoreFixture;
    let store: StateStore;
    beforeEach(async () => {
      fixture = await setup();
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

    it('keeps the projections a checkpoint lists, the latest committed (across a reopen, when durable)', async () => {
      await store.commit(commitOf('one', [], { ...checkpointOf('3'), projections: ['a'] }));
      await store.commit(commitOf('two', [], checkpointOf('5')));
      await store.commit(commitOf('one', [], { ...checkpointOf('4'), projections: ['a', 'b'] }));
      await store.commit(commitOf('one', [], { ...checkpointOf('6'), projections: ['a', 'b'] }));
      if (fixture.reopen) store = await fixture.reopen();
      expect((await store.checkpoint('one'))?.projections).toEqual(['a', 'b']);
      expect((await store.checkpoint('one'))?.frontier).toEqual(checkpointOf('6').frontier);
      expect((await store.checkpoint('two'))?.projections).toBeUndefined();
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

    it("never leaves a failed commit's checkpoint, nor an entity of it without its dead letters", async () => {
      await store.commit(commitOf('c', [{ namespace: 'ns', key: 'a', record: record('before') }], checkpointOf('1')));
      // The value that cannot be stored comes last among the entities, then among the dead letters.
      const badEntity = commitOf('c', [
        { namespace: 'ns', key: 'a', record: record('after') },
        { namespace: 'ns', key: 'b', record: record('after') },
        { namespace: 'ns', key: 'c', record: record(Symbol('cannot be stored')) },
      ], checkpointOf('2'), [letter('c', 'orders/0', '2'), letter('c', 'orders/0', '3')]);
      await expect(store.commit(badEntity)).rejects.toThrow();
      expect(text(await store.checkpoint('c'))).toBe(text(checkpointOf('1')));
      const entitiesWritten = (await store.get('ns', 'a'))!.state === 'after' || (await store.get('ns', 'b')) !== undefined;
      if (entitiesWritten) expect((await store.deadLetters('c')).map((l) => l.seq)).toEqual(['2', '3']);

      const badLetter = commitOf('c', [{ namespace: 'ns', key: 'd', record: record('after') }], checkpointOf('4'), [
        letter('c', 'orders/1', '4'),
        unstorableLetter('c', 'orders/1', '5'),
      ]);
      await expect(store.commit(badLetter)).rejects.toThrow();
      expect(text(await store.checkpoint('c'))).toBe(text(checkpointOf('1')));
      expect(await store.get('ns', 'd')).toBeUndefined();
    });

    it("shows a reader that sees a commit's checkpoint every entity and dead letter of it", async () => {
      const reads = await readsDuringCommit(store);
      for (const { checkpoint, states, letters } of reads) {
        if (checkpoint !== '2') continue;
        expect(new Set(states)).toEqual(new Set(['2']));
        expect(letters).toContain('2');
      }
      expect(reads[reads.length - 1]!.checkpoint).toBe('2');
    });

    if (capabilities.atomicCommit) {
      it('writes nothing of a commit that fails', async () => {
        await store.commit(commitOf('c', [{ namespace: 'ns', key: 'a', record: record('before') }], checkpointOf('1')));
        const failing = commitOf('c', [
          { namespace: 'ns', key: 'a', record: record('after') },
          { namespace: 'ns', key: 'b', record: record(Symbol('cannot be stored')) },
        ], checkpointOf('2'), [letter('c', 'orders/0', '2')]);
        await expect(store.commit(failing)).rejects.toThrow();
        const lettered = commitOf('c', [{ namespace: 'ns', key: 'a', record: record('after') }], checkpointOf('3'), [
          letter('c', 'orders/0', '3'),
          unstorableLetter('c', 'orders/0', '4'),
        ]);
        await expect(store.commit(lettered)).rejects.toThrow();
        expect(text(await store.get('ns', 'a'))).toBe(text(record('before')));
        expect(await store.get('ns', 'b')).toBeUndefined();
        expect(text(await store.checkpoint('c'))).toBe(text(checkpointOf('1')));
        expect(await store.deadLetters('c')).toEqual([]);
      });

      it('lets readers see a commit whole or not at all', async () => {
        const reads = await readsDuringCommit(store);
        // Each read shows one generation whole, and once a reader saw the new one, no later
        // read shows the old one (the number of dead letters is the generation too).
        const seen = reads.flatMap(({ checkpoint, states, letters }) => {
          expect(new Set(states).size).toBe(1);
          expect([['1'], ['1', '2']]).toContainEqual(letters);
          return [checkpoint, states[0], String(letters.length)];
        });
        expect(seen.join('')).toMatch(/^1*2+$/);
      });
    }

    if (methods.blobs) {
      const blobsOf = (): BlobStore => {
        if (!hasBlobs(store)) throw new Error(`${name} claims blobs, but its store has no getBlob`);
        return store;
      };
      const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

      it('keeps blobs by key, listed by prefix in key order, each a copy', async () => {
        const blobs = blobsOf();
        expect(await blobs.getBlob(['d', 'x'])).toBeUndefined();
        const written = bytes(1, 2, 3);
        await blobs.putBlob(['d', 'x', 'b'], written);
        await blobs.putBlob(['d', 'x', 'a'], bytes(4));
        await blobs.putBlob(['d', 'x'], bytes(5));
        await blobs.putBlob(['d', 'xy'], bytes(6));
        await blobs.putBlob(['__proto__'], bytes(7));
        written[0] = 9;
        expect([...(await blobs.getBlob(['d', 'x', 'b']))!]).toEqual([1, 2, 3]);
        const listed = await blobs.blobs(['d', 'x']);
        expect(listed.map(({ key, value }) => [key, [...value]])).toEqual([
          [['d', 'x'], [5]],
          [['d', 'x', 'a'], [4]],
          [['d', 'x', 'b'], [1, 2, 3]],
        ]);
        expect([...(await blobs.getBlob(['__proto__']))!]).toEqual([7]);
        expect((await blobs.blobs([])).length).toBe(5);
      });

      it('removes one blob by its key, or every blob under a prefix', async () => {
        const blobs = blobsOf();
        for (const key of [['d', 'x'], ['d', 'x', 'a'], ['d', 'x', 'b'], ['d', 'xy']]) await blobs.putBlob(key, bytes(1));
        await blobs.deleteBlob(['d', 'x']);
        expect((await blobs.blobs(['d'])).map(({ key }) => key.join('/'))).toEqual(['d/x/a', 'd/x/b', 'd/xy']);
        await blobs.deleteBlobs(['d', 'x']);
        expect((await blobs.blobs(['d'])).map(({ key }) => key.join('/'))).toEqual(['d/xy']);
      });

      if (capabilities.durable) {
        it('keeps blobs across a reopen', async () => {
          await blobsOf().putBlob(['d', 'x'], bytes(1, 2));
          if (!fixture.reopen) throw new Error(`${name} claims durable, but its setup gives no reopen`);
          store = await fixture.reopen();
          expect([...(await blobsOf().getBlob(['d', 'x']))!]).toEqual([1, 2]);
        });
      }
    }

    if (capabilities.durable) {
      it('keeps everything committed across a reopen', async () => {
        if (!fixture.reopen) throw new Error(`${name} claims durable, but its setup gives no reopen`);
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
