import { createHash } from 'node:crypto';
import { FoldlineError } from '../base/errors.js';
import { compareSeq, isSeq, mergeFrontiers, positionKey, type Frontier } from '../crdt/index.js';
import { parseArchiveJson } from './archiveJson.js';

/** The segment formats an archive may hold: Arrow IPC (the default, fast to rebuild from), gzip'd NDJSON, Parquet. */
export type ArchiveFormat = 'arrow' | 'ndjson' | 'parquet';
export const archiveFormats: readonly ArchiveFormat[] = ['arrow', 'ndjson', 'parquet'];

/** Consecutive records of one shard in one file of the archive. */
export interface SegmentEntry {
  /** The file's name, relative to the archive's root. */
  file: string;
  format: ArchiveFormat;
  stream: string;
  shard: number;
  firstSeq: string;
  lastSeq: string;
  count: number;
  bytes: number;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
}

/**
 * The archive's table of contents, written last (and atomically) by each archive run: a
 * segment it does not list is not part of the archive, so nothing half-written counts.
 */
export interface Manifest {
  version: 1;
  /** The ledger's layout when archived. */
  streams: Array<{ name: string; shards: number }>;
  segments: SegmentEntry[];
}

export const manifestFile = 'manifest.json';

export function emptyManifest(streams: ReadonlyArray<{ name: string; shards: number }>): Manifest {
  return { version: 1, streams: streams.map(({ name, shards }) => ({ name, shards })), segments: [] };
}

export function checksum(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The last seq the manifest holds of each shard: where the archive ends, as a frontier. */
export function archiveEnd(manifest: Manifest): Frontier {
  const end: Frontier = {};
  for (const segment of manifest.segments) {
    const position = positionKey(segment.stream, segment.shard);
    const seen = end[position];
    if (seen === undefined || compareSeq(segment.lastSeq, seen) > 0) end[position] = segment.lastSeq;
  }
  return mergeFrontiers(end);
}

/** Records the manifest lists in all. */
export function recordCount(manifest: Manifest): number {
  return manifest.segments.reduce((sum, segment) => sum + segment.count, 0);
}

/** A manifest's text, checked: a bad one names the file and what is wrong with it. */
export function parseManifest(text: string, where: string): Manifest {
  const manifest = parseArchiveJson(text, where, 'the manifest') as Partial<Manifest>;
  if (manifest?.version !== 1 || !Array.isArray(manifest.streams) || !Array.isArray(manifest.segments)) {
    throw new FoldlineError('bad_archive', `${where}: not a foldline archive manifest (version 1 with streams and segments)`);
  }
  manifest.segments.forEach((segment, i) => {
    const ok =
      typeof segment?.file === 'string' &&
      (archiveFormats as readonly string[]).includes(segment.format) &&
      typeof segment.stream === 'string' &&
      Number.isInteger(segment.shard) &&
      isSeq(String(segment.firstSeq)) &&
      isSeq(String(segment.lastSeq)) &&
      Number.isInteger(segment.count) &&
      typeof segment.sha256 === 'string';
    if (!ok) throw new FoldlineError('bad_archive', `${where}: segment ${i} of the manifest is malformed`, { path: `/segments/${i}` });
  });
  return manifest as Manifest;
}
