import { FoldlineError } from '../base/errors.js';
import { positionKey } from '../crdt/index.js';
import type { Ledger } from '../ledger/types.js';
import { archiveEnd, emptyManifest, manifestFile, parseManifest, type ArchiveFormat, type Manifest, type SegmentEntry } from './manifest.js';
import { SegmentWriter } from './segmentWriter.js';
import type { ArchiveStorage } from './storage.js';

export interface ArchiveOptions {
  ledger: Ledger;
  storage: ArchiveStorage;
  format: ArchiveFormat;
  /** A segment is closed once its records' JSON text reaches about this many bytes. Default 32 MiB. */
  segmentBytes?: number;
  /**
   * Told after each segment is written, with the records archived so far by this run and
   * an estimate of how many it will archive (seqs counted as dense).
   */
  onProgress?: (archived: number, estimate: number) => void;
}

export interface ArchiveResult {
  segments: SegmentEntry[];
  records: number;
  manifest: Manifest;
}

const readPage = 10_000;

/**
 * Copies what the ledger holds past the archive's manifest into new segments, shard by
 * shard, then writes the manifest listing old and new segments. The manifest is written
 * last and whole: a run that stops half-way leaves segments the manifest does not list,
 * which no reader looks at and the next run writes again.
 */
export async function archiveLedger(options: ArchiveOptions): Promise<ArchiveResult> {
  const { ledger, storage, format } = options;
  const segmentBytes = options.segmentBytes ?? 32 * 2 ** 20;
  const existing = await readManifest(storage);
  const manifest = existing ?? emptyManifest(ledger.streams);
  checkLayout(manifest, ledger, storage.location);
  const end = archiveEnd(manifest);
  const head = await ledger.head();
  const estimate = Object.keys(head).reduce((sum, position) => sum + Math.max(0, Number(head[position]) - Number(end[position] ?? 0)), 0);
  const written: SegmentEntry[] = [];
  let archived = 0;
  for (const { name, shards } of ledger.streams) {
    for (let shard = 0; shard < shards; shard++) {
      const writer = new SegmentWriter(storage, format, segmentBytes, (entry) => {
        archived += entry.count;
        options.onProgress?.(archived, estimate);
      });
      let after = end[positionKey(name, shard)] ?? null;
      for (;;) {
        const page = await ledger.read(name, shard, after, readPage);
        if (page.length === 0) break;
        for (const record of page) await writer.add(record);
        after = page[page.length - 1]!.seq;
      }
      await writer.flush();
      written.push(...writer.written);
    }
  }
  const next: Manifest = { ...manifest, segments: [...manifest.segments, ...written] };
  // A first run writes a manifest even of an empty ledger: an archive that holds nothing yet.
  if (written.length > 0 || !existing) await storage.put(manifestFile, Buffer.from(`${JSON.stringify(next, null, 1)}\n`));
  return { segments: written, records: archived, manifest: next };
}

export async function readManifest(storage: ArchiveStorage): Promise<Manifest | undefined> {
  const bytes = await storage.get(manifestFile);
  return bytes && parseManifest(Buffer.from(bytes).toString('utf8'), `${storage.location}/${manifestFile}`);
}

function checkLayout(manifest: Manifest, ledger: Ledger, location: string): void {
  const describe = (streams: ReadonlyArray<{ name: string; shards: number }>): string =>
    [...streams].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(({ name, shards }) => `${name}(${shards})`).join(', ');
  if (describe(manifest.streams) !== describe(ledger.streams)) {
    throw new FoldlineError('layout_mismatch', `the archive at ${location} holds streams ${describe(manifest.streams)}, the ledger ${describe(ledger.streams)}`);
  }
}
