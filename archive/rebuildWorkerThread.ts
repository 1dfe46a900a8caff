import { parentPort, workerData } from 'node:worker_threads';
import { FoldlineError } from '../base/errors.js';
import { encodeState } from '../crdt/index.js';
import type { FoldTopology } from '../projections/foldWorkerProtocol.js';
import type { FromRebuildWorker, RebuildWorkerData } from './rebuildProtocol.js';
import { foldTask } from './foldTask.js';
import { openStorage } from './storageRef.js';

/*
 * A rebuild worker thread: folds its part of an archive (whole shards, disjoint from the
 * other workers') with the topology's projections, then hands its entity states back to be
 * merged.
 */
const data = workerData as RebuildWorkerData;
const port = parentPort!;
const post = (message: FromRebuildWorker): void => port.postMessage(message);
const folded = new Int32Array(data.folded);

try {
  const topology = (await import(data.topology)) as FoldTopology;
  const projections = topology.projections.filter((definition) => data.projections.includes(definition.name));
  const states = await foldTask(data.task, {
    storage: await openStorage(data.storage),
    projections,
    route: topology.route,
    skipBad: data.skipBad,
    onFolded: (records) => void Atomics.add(folded, data.slot, records),
    onBad: (bad) => post({ type: 'bad', bad }),
  });
  const namespaces = projections.map((definition): [string, Uint8Array] => [definition.name, encodeState([...states.keys(definition)].map((key) => [key, states.get(definition, key)]))]);
  post({ type: 'states', namespaces });
} catch (error) {
  post({ type: 'failed', ...(error instanceof FoldlineError ? { code: error.code } : {}), message: error instanceof Error ? error.message : String(error) });
}
