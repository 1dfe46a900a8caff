import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import { EmbeddedStore } from './embeddedStore.js';
import type { StateCommit } from './types.js';
import type { FoldTopology, FoldWorkerData, FromWorker, ToWorker } from './foldWorkerProtocol.js';
import { ProjectionRuntime } from './runtime.js';

/*
 * The fold worker thread: a ProjectionRuntime over a reader of the embedded ledger,
 * committing to the embedded store, reporting each batch to the thread that started it
 * (see foldWorker.ts). It shares the LMDB environments with that thread, so neither
 * events nor states are copied between threads except the changed entities' records.
 */
const data = workerData as FoldWorkerData;
const port = parentPort!;
const post = (message: FromWorker): void => port.postMessage(message);

const topology = (await import(data.topology)) as FoldTopology;
const logger = pino({ name: 'foldline', level: data.logLevel }, pino.destination(2)).child({ layer: 'projections', thread: 'fold-worker' });
const ledger = await EmbeddedLedger.openReader({ path: data.ledgerPath, route: topology.route });
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

/** Reports each commit to the serving thread: the changed records as encoded for the store, then that they are stored. */
class ReportingStore extends EmbeddedStore {
  override async commit(commit: StateCommit): Promise<void> {
    await reportWindow();
    const encoded = this.encode(commit);
    Atomics.add(reportCounts, 0, 1);
    // Before the write, as an in-process runtime publishes: the batch is durable in the ledger.
    // Entities only reloaded after a rejected fold need no report: no other thread saw the
    // object that fold had partly changed.
    post({ type: 'folded', frontier: commit.checkpoint.frontier, entities: encoded.entities });
    await this.write(encoded);
    post({ type: 'stored', frontier: commit.checkpoint.frontier });
  }
}
const store = new ReportingStore({ path: data.storePath });
const registry = new Registry();
const runtime = new ProjectionRuntime({
  consumer: data.consumer,
  ledger,
  store,
  projections: topology.projections,
  registry,
  logger,
  ...(data.batchSize === undefined ? {} : { batchSize: data.batchSize }),
  ...(data.idWindow === undefined ? {} : { idWindow: data.idWindow }),
});
port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'appended':
      return ledger.refresh(message.head);
    case 'metrics':
      return void registry.metrics().then((text) => post({ type: 'metrics', id: message.id, text }));
    case 'stop':
      return void (async () => {
        await runtime.stop();
        await store.close();
        await ledger.close();
        // The thread ends with its port: the serving side waits for that exit.
        port.close();
      })();
  }
});

// What the store already holds counts as folded from the start, before any new batch.
post({ type: 'stored', frontier: (await store.checkpoint(data.consumer))?.frontier ?? {} });
runtime.start();
