import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { segmentCodecs } from '../../archive/segments.js';
import type { LedgerRecord } from '../../ledger/types.js';
import { EntityStates } from '../../projections/entityStates.js';
import { retailProjections } from '../../retail/projections.js';
import type { FloorResult, FloorWorkerData } from './floorProtocol.js';

/*
 * A floor of `npm run bench -- rebuild`, in a worker thread as the rebuild's own: folding
 * events already decoded in memory (the fold floor), or only reading, gunzipping and
 * parsing NDJSON segments (the parse floor).
 */
const data = workerData as FloorWorkerData;

async function foldFloor(data: Extract<FloorWorkerData, { floor: 'fold' }>): Promise<FloorResult> {
  const records: LedgerRecord[] = [];
  for (const segment of data.segments) {
    if (records.length >= data.maxEvents) break;
    const bytes = await readFile(join(data.archive, segment.file));
    await segmentCodecs[segment.format].decode(bytes, segment.file, (chunk) => {
      for (const record of chunk) if (records.length < data.maxEvents) records.push(record);
    });
  }
  const states = new EntityStates(retailProjections);
  const started = performance.now();
  for (const record of records) states.fold(record);
  return { events: records.length, ms: performance.now() - started };
}

async function parseFloor(data: Extract<FloorWorkerData, { floor: 'parse' }>): Promise<FloorResult> {
  const started = performance.now();
  let events = 0;
  for (const file of data.files) {
    const text = gunzipSync(await readFile(join(data.dir, file))).toString('utf8');
    for (let at = 0; at < text.length; ) {
      const end = text.indexOf('\n', at);
      const stop = end < 0 ? text.length : end;
      if (stop > at) {
        JSON.parse(text.slice(at, stop));
        events++;
      }
      at = stop + 1;
    }
  }
  return { events, ms: performance.now() - started };
}

parentPort!.postMessage(await (data.floor === 'fold' ? foldFloor(data) : parseFloor(data)));
