import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { pairKey } from '../base/pairKey.js';
import { currentThreadId } from '../base/threadCpu.js';
import { encodeState } from '../crdt/index.js';
import { loadLedgerBackend, loadStoreBackend } from './backendModules.js';
import type { EncodedEntity, FoldTopology, FoldWorkerData, FromWorker, ToWorker } from './foldWorkerProtocol.js';
import { ProjectionRuntime } from './runtime.js';
import { SharedHead } from './sharedHead.js';

/*
 * The fold worker thread: a ProjectionRuntime over a reader of the ledger, committing to the
 * state store, both opened through the backend modules its data names, reporting each batch
 * to the thread that started it (see foldWorker.ts). Embedded backends share their storage
 * with that thread, so neither events nor states are copied between threads except the
 * records of the entities that thread watches.
 */
const data = workerData as FoldWorkerData;
const port = parentPort!;
const post = (message: FromWorker): void => port.postMessage(message);

const topology = (await import(data.topology)) as FoldTopology;
const logger = pino({ name: 'foldline', level: data.logLevel }, pino.destination(2)).child({ layer: 'projections', thread: 'fold-worker' });
const ledger = await (await loadLedgerBackend(data.ledgerBackend)).openReader(data.ledgerBackend.config, topology.route);
const reportCounts = new Int32Array(data.reportCounts);

/** Waits until fewer than `reportsInFlight` reports wait in the serving thread (see FoldWorkerData). */
async function reportWindow(): Promise<void> {
  for (;;) {
    const taken = Atomics.load(reportCounts, 1);
    // Int32 counters wrap; their difference stays exact.
    if (((Atomics.load(reportCounts, 0) - taken) | 0) < data.reportsInFlight) return;
    const waiting = Atomics.waitAsync(reportCounts, 1, taken);
    if (waiting.async) await waiting.value;
  }
}

const store = await (await loadStoreBackend(data.storeBackend)).open(data.storeBackend.config);
const registry = new Registry();
const runtime = new ProjectionRuntime({
  consumer: data.consumer,
  ledger,
  store,
  projections: topology.projections,
  registry,
  logger,
  pace: reportWindow,
  ...(data.batchSize === undefined ? {} : { batchSize: data.batchSize }),
  ...(data.idWindow === undefined ? {} : { idWindow: data.idWindow }),
  ...(data.positions === undefined ? {} : { positions: data.positions }),
  ...(data.commitIntervalMs === undefined ? {} : { commitIntervalMs: data.commitIntervalMs }),
});

/** Entities the serving thread holds: their changes carry their records. */
const watched = new Set<string>();
/** Batches folded so far: reports name a batch by this count. */
let batchesFolded = 0;
// Each batch as it is folded, before its store commit: its records are durable in the ledger.
runtime.onFolded(({ entities, frontier }) => {
  Atomics.add(reportCounts, 0, 1);
  post({
    type: 'folded',
    batch: ++batchesFolded,
    frontier,
    entities: entities.map(({ namespace, key, record, traceparent }) => {
      const entity: EncodedEntity = watched.has(pairKey(namespace, key)) ? { namespace, key, record: encodeState(record) } : { namespace, key };
      if (traceparent !== undefined) entity.traceparent = traceparent;
      return entity;
    }),
  });
});
// Batches and store commits run one at a time, so a store commit covers every batch folded before it lands.
runtime.onStored((frontier) => post({ type: 'stored', batch: batchesFolded, frontier }));

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'read': {
      const { request, entities } = message;
      for (const [namespace, key] of entities) watched.add(pairKey(namespace, key));
      return void Promise.all(entities.map(([namespace, key]) => runtime.get(namespace, key))).then(
        (records) => post({ type: 'records', request, records: records.map((record) => (record ? encodeState(record) : null)) }),
        (error: unknown) => post({ type: 'records', request, error: String(error) }),
      );
    }
    case 'interest':
      for (const id of message.release) watched.delete(id);
      for (const id of message.watch) watched.add(id);
      return;
    case 'metrics':
      return void registry.metrics().then((text) => post({ type: 'metrics', id: message.id, text }));
    case 'stop':
      return void (async () => {
        stopping = true;
        head?.wake();
        await runtime.stop();
        await store.close();
        await ledger.close();
        // The thread ends with its port: the serving side waits for that exit.
        port.close();
      })();
  }
});

/**
 * A reader that follows the writer: each durable head the serving thread publishes is the
 * reader's to read up to, and the blocks published with it its to read without reading them back.
 */
const head = data.head && new SharedHead(data.head.positions, data.head.buffer);
let stopping = false;
if (head) {
  const follow = ledger.refresh?.bind(ledger);
  if (!follow) throw new Error(`the ledger backend ${data.ledgerBackend.module} claims its reader follows the writer, yet its reader has no refresh`);
  void (async () => {
    let seen = 0;
    while (!stopping) {
      const next = await head.next(seen);
      seen = next.generation;
      if (!stopping) follow(next.head, next.blocks);
    }
  })();
}

const thread = currentThreadId();
if (thread !== undefined) post({ type: 'thread', id: thread });
// What the store already holds counts as folded from the start, before any new batch.
post({ type: 'stored', batch: 0, frontier: (await store.checkpoint(data.consumer))?.frontier ?? {} });
runtime.start();
