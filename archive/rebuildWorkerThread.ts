import { parentPort, workerData } from 'node:worker_threads';
import { FoldlineError } from '../base/errors.js';
import type { FoldTopology } from '../projections/foldWorkerProtocol.js';
import type { HandoutRequest, FromRebuildWorker, RebuildWorkerData } from './rebuildProtocol.js';
import { foldTask } from './foldTask.js';
import { SortedHandout } from './sortedHandout.js';
import { openStorage } from './storageRef.js';
import { collectFoldGarbage } from './workerHeaps.js';

/*
 * A rebuild worker thread: folds its part of an archive (whole shards, disjoint from the
 * other workers') with the topology's projections, then hands its entity states back in
 * key order, a chunk at a time as the coordinator asks, to be merged and stored.
 */
const data = workerData as RebuildWorkerData;
const port = parentPort!;
const post = (message: FromRebuildWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const folded = new Int32Array(data.folded);
const failed = (error: unknown): void =>
  post({ type: 'failed', ...(error instanceof FoldlineError ? { code: error.code } : {}), message: error instanceof Error ? error.message : String(error) });

try {
  const topology = (await import(data.topology)) as FoldTopology;
  const projections = topology.projections.filter((definition) => data.projections.includes(definition.name));
  const { states, rejected } = await foldTask(data.task, {
    storage: await openStorage(data.storage),
    projections,
    route: topology.route,
    validate: topology.validate,
    skipBad: data.skipBad,
    encodeIdleAfter: data.encodeIdleAfter,
    onFolded: (records) => void Atomics.add(folded, data.slot, records),
    onBad: (bad) => post({ type: 'bad', bad }),
  });
  collectFoldGarbage();
  const handout = new SortedHandout(states, projections);
  port.on('message', ({ name, entities: count }: HandoutRequest) => {
    try {
      const next = handout.next(name, count);
      const { encodings } = next;
      // A buffer of its own moves to the coordinator; a small one from Node's shared pool is copied.
      post({ type: 'handout', handout: next }, encodings.byteLength === encodings.buffer.byteLength ? [encodings.buffer as ArrayBuffer] : []);
    } catch (error) {
      failed(error);
    }
  });
  post({ type: 'folded', counts: handout.counts(), rejected });
} catch (error) {
  failed(error);
}
