import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, frontierCovers, mergeFrontiers, type Frontier } from '../crdt/index.js';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { FoldWorker } from '../projections/foldWorker.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { generateEvents } from '../retail/generator.js';
import { retailProjections } from '../retail/projections.js';
import { embeddedBackends, type Backends } from '../service/backends.js';

const topology = new URL('../retail/topology.ts', import.meta.url).href;
const logger = pino({ level: 'silent' });

describe('a fold worker', () => {
  let dir: string;
  let ledger: EmbeddedLedger;
  let store: EmbeddedStore;
  let workers: FoldWorker[];
  let backends: Backends;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foldline-worker-'));
    backends = embeddedBackends(dir);
    ledger = await EmbeddedLedger.open({ path: join(dir, 'ledger'), streams: retailStreams(2), route: retailRouter });
    store = new EmbeddedStore({ path: join(dir, 'state') });
    workers = [];
  });
  afterEach(async () => {
    // Before the environments close, even when a test failed midway.
    await Promise.all(workers.map((worker) => worker.stop()));
    await store.close();
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  });

  const startWorker = (options: { topology?: string; onFatal?: (error: Error) => void; batchSize?: number; reportsInFlight?: number } = {}): FoldWorker => {
    const worker = new FoldWorker({
      topology: options.topology ?? topology,
      consumer: 'test',
      ledger,
      ledgerBackend: backends.ledger,
      readerFollowsWriter: true,
      store,
      storeBackend: backends.store,
      idWindow: 0,
      batchSize: options.batchSize ?? 200,
      ...(options.reportsInFlight === undefined ? {} : { reportsInFlight: options.reportsInFlight }),
      logger,
      onFatal: options.onFatal ?? ((error) => expect.unreachable(String(error))),
    });
    workers.push(worker);
    return worker;
  };

  /**
   * Reads back every changed entity at once and a little later, across its batch's store
   * write; returns the reads that saw a state older than one published or read before.
   * Changes carry records only for entities read before, which the read-backs make most.
   */
  const readBackLagging = (worker: FoldWorker): string[] => {
    const lagging: string[] = [];
    const newest = new Map<string, Frontier>();
    const see = (id: string, seen: Frontier): void => void newest.set(id, mergeFrontiers(newest.get(id) ?? {}, seen));
    worker.onFolded(({ entities }) => {
      for (const entity of entities) {
        const id = `${entity.namespace}/${entity.key}`;
        if (entity.record) see(id, entity.record.frontier);
        const seen = newest.get(id) ?? {};
        const readBack = (): void =>
          void worker.get(entity.namespace, entity.key).then((record) => {
            if (!record || !frontierCovers(record.frontier, seen)) lagging.push(id);
            if (record) see(id, record.frontier);
          });
        readBack();
        for (const delay of [1, 5]) setTimeout(readBack, delay);
      }
    });
    return lagging;
  };

  it('never reads back a state older than one it published, even while a slow store write is in flight', async () => {
    const worker = startWorker({ topology: new URL('./support/bulkyTopology.ts', import.meta.url).href });
    const lagging = readBackLagging(worker);
    const events = [...generateEvents({ seed: 5, events: 3000 })];
    for (let i = 0; i < events.length; i += 100) await ledger.append(events.slice(i, i + 100));
    await worker.catchUp();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lagging).toEqual([]);
    await worker.stop();
  });

  it('folds what the ledger gets as an in-process runtime does', async () => {
    const events = [...generateEvents({ seed: 3, events: 4000 })];
    const worker = startWorker();
    const published = new Map<string, string | undefined>();
    worker.onFolded(({ entities }) => {
      for (const entity of entities) published.set(`${entity.namespace}/${entity.key}`, entity.record && canonicalJson(entity.record));
    });
    const lagging = readBackLagging(worker);
    for (let i = 0; i < events.length; i += 250) await ledger.append(events.slice(i, i + 250));
    await worker.catchUp();
    expect(frontierCovers(worker.frontier(), await ledger.head())).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lagging).toEqual([]);

    // The same records as one in-process fold of the same ledger.
    const reference = new ProjectionRuntime({ consumer: 'reference', ledger, store: new MemoryStore(), projections: retailProjections, idWindow: 0 });
    await reference.catchUp();
    for (const [id, record] of published) {
      const [namespace, ...key] = id.split('/');
      expect(canonicalJson(await worker.get(namespace!, key.join('/')))).toBe(canonicalJson(await reference.get(namespace!, key.join('/'))));
      if (record !== undefined) expect(canonicalJson(await reference.get(namespace!, key.join('/')))).toBe(record);
    }
    expect(await worker.metrics()).toMatch(/foldline_projection_records_total\{consumer="test"\} 4000/);
    await worker.stop();
  });

  it('sends the records of the entities read through it, until released, and reads the others from the worker', async () => {
    const worker = startWorker();
    const changes: Array<{ id: string; record: boolean }> = [];
    worker.onFolded(({ entities }) => {
      for (const entity of entities) if (entity.namespace === 'customer') changes.push({ id: entity.key, record: entity.record !== undefined });
    });
    const addToCart = async (id: string, sku: string): Promise<void> => {
      const event = { specversion: '1.0' as const, id, source: '/test', type: 'retail.cart.item-added', time: '2024-03-01T08:00:00.000Z', subject: 'c-9', data: { customerId: 'c-9', sku, quantity: 1 } };
      await ledger.append([event]);
      await worker.catchUp();
    };
    const cart = async (): Promise<string[]> => Object.keys(((await worker.get<{ cart: Record<string, unknown> }>('customer', 'c-9'))!.state.cart)).sort();

    await addToCart('a-1', 'sku-1');
    expect(changes).toEqual([{ id: 'c-9', record: false }]);
    // Changed in a batch not stored yet, without its record: asked of the worker.
    expect(await cart()).toEqual(['sku-1']);
    await addToCart('a-2', 'sku-2');
    expect(changes.at(-1)).toEqual({ id: 'c-9', record: true });
    expect(await cart()).toEqual(['sku-1', 'sku-2']);
    worker.release('customer', 'c-9');
    // A request answered after the release was taken in: appends are told apart from messages.
    await worker.metrics();
    await addToCart('a-3', 'sku-3');
    expect(changes.at(-1)).toEqual({ id: 'c-9', record: false });
    expect(await cart()).toEqual(['sku-1', 'sku-2', 'sku-3']);
    await worker.stop();
    // Stopped: everything it folded is in the store.
    expect(await cart()).toEqual(['sku-1', 'sku-2', 'sku-3']);
  });

  it('starts at the stored checkpoint and folds nothing again', async () => {
    await ledger.append([...generateEvents({ seed: 4, events: 500 })]);
    const first = startWorker();
    await first.catchUp();
    await first.stop();

    const second = startWorker();
    let changed = 0;
    second.onFolded(({ entities }) => (changed += entities.length));
    await second.catchUp();
    expect(changed).toBe(0);
    expect(mergeFrontiers(second.frontier())).toEqual(mergeFrontiers(await ledger.head()));
    await second.stop();
  });

  it('folds no further ahead of a blocked serving thread than its window of reports', async () => {
    await ledger.append([...generateEvents({ seed: 6, events: 2000 })]);
    const worker = startWorker({ batchSize: 5, reportsInFlight: 3 });
    await worker.ready();
    const blocked = new Int32Array(new SharedArrayBuffer(4));
    let largest = 0;
    for (let round = 0; round < 3; round++) {
      // This thread takes in nothing while blocked; the worker has hundreds of batches to fold.
      Atomics.wait(blocked, 0, 0, 300);
      largest = Math.max(largest, worker.reportsWaiting());
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(largest).toBe(3);
    await worker.catchUp();
    expect(worker.reportsWaiting()).toBe(0);
    expect(frontierCovers(worker.frontier(), await ledger.head())).toBe(true);
    await worker.stop();
    expect(() => startWorker({ reportsInFlight: 0 })).toThrow(/reportsInFlight must be a positive integer/);
  });

  it('reports a worker that cannot run as fatal', async () => {
    const broken = join(dir, 'broken-topology.mjs');
    await writeFile(broken, 'throw new Error("no topology here");\n');
    const fatal = await new Promise<Error>((resolve) => {
      startWorker({ topology: pathToFileURL(broken).href, onFatal: resolve });
    });
    expect(fatal.message).toContain('no topology here');
  });
});
