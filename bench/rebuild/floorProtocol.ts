import type { SegmentEntry } from '../../archive/manifest.js';

/**
 * A floor worker's `workerData`. `fold`: decode up to `maxEvents` events of the segments
 * first (untimed), then time folding them; `parse`: time reading, gunzipping and
 * JSON.parsing the NDJSON.gz files.
 */
export type FloorWorkerData = { floor: 'fold'; archive: string; segments: SegmentEntry[]; maxEvents: number } | { floor: 'parse'; dir: string; files: string[] };

export interface FloorResult {
  events: number;
  ms: number;
}
