import type { SegmentEntry } from '../../archive/manifest.js';

/** A floor worker's `workerData`: the segments of its shards, and what it measures. */
export interface FloorWorkerData {
  /** `fold`: decode up to `maxEvents` first (untimed), then time folding them; `parse`: time gunzip and JSON.parse of NDJSON segments. */
  floor: 'fold' | 'parse';
  archive: string;
  segments: SegmentEntry[];
  maxEvents: number;
}

export interface FloorResult {
  events: number;
  ms: number;
}
