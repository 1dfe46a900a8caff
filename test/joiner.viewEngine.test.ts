import { afterEach, describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import { frontierCovers, lwwWrite, parseTime, type Lww } from '../crdt/index.js';
import type { EntitySource, ViewDefinition, ViewValue } from '../joiner/types.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import { decodeToken, encodeToken } from '../ledger/token.js';
import type { CloudEvent } from '../ledger/types.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import type { ProjectionDefinition } from '../projections/types.js';

/* A generic domain: documents with a value and an optional reference to another document. */
interface Doc {
  value?: Lww<number>;
  ref?: Lww<string>;
}
const docs: ProjectionDefinition<Doc> = {
  name: 'doc',
  streams: ['docs'],
  keysOf: (event) => [event.subject],
  initial: () => ({}),
  fold(state, event) {
    const s = { t: parseTime(event.time), id: event.id, src: event.source };
    const data = event.data as { value?: number; ref?: string };
    if (data.value !== undefined) state.value = lwwWrite(state.value, data.value, s);
    if (data.ref !== undefined) state.ref = lwwWrite(state.ref, data.ref, s);
    return state;
  },
  merge: (a, b) => ({ ...a, ...b }),
};

const computed: string[] = [];
/** A document joined with the document it references (a foreign key). */
const joined: ViewDefinition = {
  name: 'joined',
  compute(key, lookup) {
    computed.push(key);
    const doc = lookup.get(docs, key);
    const ref = doc?.ref?.v;
    return { key, value: doc?.value?.v ?? null, ref: ref ?? null, refValue: ref === undefined ? null : lookup.get(docs, ref)?.value?.v ?? null };
  },
};

let n = 0;
const event = (subject: string, data: Record<string, unknown>): CloudEvent => ({
  specversion: '1.0',
  id: `e${++n}`,
  source: '/test',
  type: 'doc.set',
  time: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
  subject,
  data,
});

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
  computed.length = 0;
});

/**
 * The runtime as a source that, like a fold worker for entities nobody read through it,
 * tells of changes without their records, reads copies (not the objects the runtime folds
 * into), and records what it is told to release.
 */
function withoutRecords(runtime: ProjectionRuntime): EntitySource & { released: string[] } {
  const released: string[] = [];
  return {
    released,
    get: async (namespace, key) => structuredClone(await runtime.get(namespace, key)),
    frontier: () => runtime.frontier(),
    onFolded: (listener) => runtime.onFolded(({ entities, frontier }) => listener({ frontier, entities: entities.map(({ namespace, key }) => ({ namespace, key })) })),
    release: (namespace, key) => void released.push(`${namespace}/${key}`),
  };
}

function setup(options: { recordless?: boolean; entityCacheSize?: number } = {}) {
  const ledger = new MemoryLedger({ streams: [{ name: 'docs', shards: 2 }], route: () => 'docs' });
  const runtime = new ProjectionRuntime({ consumer: 'test', ledger, store: new MemoryStore(), projections: [docs], batchSize: 10 });
  const source = options.recordless ? withoutRecords(runtime) : runtime;
  const engine = new ViewEngine({ source, views: [joined], ...(options.entityCacheSize === undefined ? {} : { entityCacheSize: options.entityCacheSize }) });
  runtime.start();
  cleanup.push(() => engine.close(), () => runtime.stop(), () => ledger.close());
  const append = async (...events: CloudEvent[]) => encodeToken((await ledger.append(events)).head);
  return { ledger, runtime, engine, append, released: 'released' in source ? source.released : [] };
}

const after = (token: string) => ({ after: decodeToken(token), waitMs: 5000 });

describe('ViewEngine', () => {
  it('a read with a token reflects the append that gave it', async () => {
    const { engine, append } = setup();
    const token = await append(event('a', { value: 1 }));
    expect((await engine.read('joined', 'a', after(token))).value).toEqual({ key: 'a', value: 1, ref: null, refValue: null });
    const next = await append(event('a', { value: 2 }));
    const read = await engine.read('joined', 'a', after(next));
    expect(read.value).toMatchObject({ value: 2 });
    expect(encodeToken(read.frontier)).not.toBe('v1.');
  });

  it('a foreign-key join converges whichever side arrives first', async () => {
    const { engine, append } = setup();
    // The reference arrives before the referenced document...
    await append(event('a', { ref: 'b' }));
    const token = await append(event('b', { value: 7 }));
    expect((await engine.read('joined', 'a', after(token))).value).toMatchObject({ refValue: 7 });
    // ...and the referenced document before the reference.
    await append(event('d', { value: 9 }));
    const second = await append(event('c', { ref: 'd' }));
    expect((await engine.read('joined', 'c', after(second))).value).toMatchObject({ refValue: 9 });
  });

  it('recomputes only the subscribed views whose inputs changed, and pushes their new values', async () => {
    const { engine, append } = setup();
    const first = await append(event('a', { ref: 'shared' }), event('b', { value: 1 }), event('shared', { value: 10 }));
    const pushes: Record<string, ViewValue[]> = { a: [], b: [] };
    await engine.subscribe('joined', 'a', (v) => pushes.a!.push(v), after(first));
    await engine.subscribe('joined', 'b', (v) => pushes.b!.push(v), after(first));
    computed.length = 0;

    const token = await append(event('shared', { value: 11 }));
    await engine.waitFor(decodeToken(token), 5000);
    await engine.settled();
    expect(computed).toEqual(['a']);
    expect(pushes.a!.map((p) => (p.value as { refValue: number }).refValue)).toEqual([10, 11]);
    expect(pushes.b!).toHaveLength(1);
  });

  it('answers 503 not_caught_up instead of a value that lacks the token', async () => {
    const { engine } = setup();
    const future = decodeToken(encodeToken({ 'docs/0': '99' }));
    await expect(engine.read('joined', 'a', { after: future, waitMs: 50 })).rejects.toMatchObject({ code: 'not_caught_up' });
  });

  it('names unknown views with a 404 code', async () => {
    const { engine } = setup();
    await expect(engine.read('nope', 'a')).rejects.toMatchObject({ code: 'unknown_view' });
  });

  it("refuses a key the view's checkKey refuses, before computing anything", async () => {
    const { runtime } = setup();
    const checked: ViewDefinition = {
      ...joined,
      name: 'checked',
      checkKey(key) {
        if (key.startsWith('!')) throw new FoldlineError('bad_key', 'no key starts with !', { path: '/key' });
      },
    };
    const engine = new ViewEngine({ source: runtime, views: [checked] });
    cleanup.push(() => engine.close());
    const refusal = { code: 'bad_key', path: '/key' };
    expect(() => engine.checkViewKey('checked', '!a')).toThrow(expect.objectContaining(refusal));
    expect(() => engine.checkViewKey('nope', 'a')).toThrow(expect.objectContaining({ code: 'unknown_view' }));
    await expect(engine.read('checked', '!a')).rejects.toMatchObject(refusal);
    await expect(engine.subscribe('checked', '!a', () => {})).rejects.toMatchObject(refusal);
    expect(computed).toEqual([]);
    engine.checkViewKey('checked', 'a');
    expect((await engine.read('checked', 'a')).value).toMatchObject({ key: 'a' });
  });

  it('reads an entity changed without its record again, and releases what it drops', async () => {
    const { engine, append, released } = setup({ recordless: true, entityCacheSize: 2 });
    const first = await append(event('a', { ref: 'shared' }), event('shared', { value: 10 }));
    const pushes: number[] = [];
    await engine.subscribe('joined', 'a', (v) => pushes.push((v.value as { refValue: number }).refValue), after(first));
    for (let value = 11; value <= 13; value++) {
      const token = await append(event('shared', { value }));
      await engine.waitFor(decodeToken(token), 5000);
      await engine.settled();
    }
    expect(pushes).toEqual([10, 11, 12, 13]);
    // Dropped on each change that came without its record, read again for the recomputation.
    expect(released.filter((id) => id === 'doc/shared')).toHaveLength(3);
    // A third entity is one past the cache: the least recently read goes, and is released.
    const token = await append(event('z', { value: 1 }));
    released.length = 0;
    expect((await engine.read('joined', 'z', after(token))).value).toMatchObject({ value: 1 });
    expect(released).toHaveLength(1);
  });

  it('a subscriber never sees a value older than one it was shown', async () => {
    const { engine, append } = setup();
    const seen: number[] = [];
    await engine.subscribe('joined', 'x', (v) => seen.push((v.value as { value: number | null }).value ?? 0));
    let token = '';
    for (let i = 1; i <= 50; i++) token = await append(event('x', { value: i }));
    await engine.waitFor(decodeToken(token), 5000);
    await engine.settled();
    expect(seen[seen.length - 1]).toBe(50);
    expect([...seen].sort((p, q) => p - q)).toEqual(seen);
  });

  it('a first subscriber to a value computed while its input changed is pushed one that reflects the change', async () => {
    const ledger = new MemoryLedger({ streams: [{ name: 'docs', shards: 2 }], route: () => 'docs' });
    const runtime = new ProjectionRuntime({ consumer: 'test', ledger, store: new MemoryStore(), projections: [docs], batchSize: 10 });
    // Reads of the entity wait at a gate: a batch is folded while the first computation waits.
    let opened = (): void => {};
    let gate: Promise<void> | undefined;
    const source: EntitySource = {
      get: async <S>(namespace: string, key: string) => {
        const record = structuredClone(await runtime.get<S>(namespace, key));
        await gate;
        return record;
      },
      frontier: () => runtime.frontier(),
      onFolded: (listener) => runtime.onFolded(listener),
    };
    const engine = new ViewEngine({ source, views: [joined] });
    runtime.start();
    cleanup.push(() => engine.close(), () => runtime.stop(), () => ledger.close());
    const first = encodeToken((await ledger.append([event('x', { value: 1 })])).head);
    await engine.waitFor(decodeToken(first), 5000);

    gate = new Promise((resolve) => (opened = resolve));
    const seen: ViewValue[] = [];
    const subscribed = engine.subscribe('joined', 'x', (v) => seen.push(v));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = encodeToken((await ledger.append([event('x', { value: 2 })])).head);
    await engine.waitFor(decodeToken(second), 5000);
    gate = undefined;
    opened();
    await subscribed;
    await engine.settled();
    // The first value handed out was computed before the second append was folded: a value
    // that reflects it (the token says so) must follow.
    const last = seen[seen.length - 1]!;
    expect(last.value).toMatchObject({ value: 2 });
    expect(frontierCovers(last.frontier, decodeToken(second))).toBe(true);
  });
});
