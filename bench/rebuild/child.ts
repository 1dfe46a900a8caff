import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { readManifest } from '../../archive/archiver.js';
import { bareExportFiles } from '../../archive/bareExport.js';
import { DirStorage } from '../../archive/dirStorage.js';
import { dealShards, rebuildFromArchive } from '../../archive/rebuild.js';
import { EmbeddedStore } from '../../projections/embeddedStore.js';
import { retailDomain } from '../../retail/domain.js';
import type { FloorResult, FloorWorkerData } from './floorProtocol.js';

/*
 * One measurement of `npm run bench -- rebuild` in a process of its own, so that its peak
 * RSS is its own: `rebuild ARCHIVE WORKERS` (end to end into a fresh embedded store),
 * `fold ARCHIVE WORKERS MAX` or `parse ARCHIVE WORKERS` (the floors). Prints
 * `{events, seconds, maxRssBytes}` as JSON. A parse floor's ARCHIVE is a bare export's
 * directory, its files dealt round the workers.
 */
const [mode, archive, workersText, maxText] = process.argv.slice(2) as [string, string, string, string | undefined];
const workers = Number(workersText);

async function rebuild(): Promise<{ events: number; seconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'foldline-bench-rebuild-store-'));
  const store = new EmbeddedStore({ path: dir });
  try {
    const started = performance.now();
    const result = await rebuildFromArchive({ storage: { kind: 'dir', path: archive }, topology: retailDomain.topology, projections: retailDomain.projections, route: retailDomain.route, consumer: retailDomain.consumer, store, workers });
    return { events: result.records, seconds: (performance.now() - started) / 1000 };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function floorParts(kind: 'fold' | 'parse'): Promise<FloorWorkerData[]> {
  const storage = new DirStorage(archive);
  if (kind === 'fold') return dealShards((await readManifest(storage))!, workers).map((segments) => ({ floor: 'fold', archive, segments, maxEvents: Number(maxText) }));
  const files = await bareExportFiles(storage);
  return Array.from({ length: workers }, (_, w) => ({ floor: 'parse', dir: archive, files: files.filter((_, i) => i % workers === w) }));
}

async function floor(kind: 'fold' | 'parse'): Promise<{ events: number; seconds: number }> {
  const results = await Promise.all(
    (await floorParts(kind)).map(
      (data) =>
        new Promise<FloorResult>((resolve, reject) => {
          const worker = new Worker(new URL('./floorWorker.boot.js', import.meta.url), { workerData: data });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  // The workers run at once: the slowest sets the pace.
  return { events: results.reduce((sum, r) => sum + r.events, 0), seconds: Math.max(...results.map((r) => r.ms)) / 1000 };
}

const measured = mode === 'rebuild' ? await rebuild() : await floor(mode as 'fold' | 'parse');
process.stdout.write(`${JSON.stringify({ ...measured, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
