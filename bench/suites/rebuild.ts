import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DirStorage } from '../../archive/dirStorage.js';
import { emptyManifest, manifestFile, type ArchiveFormat } from '../../archive/manifest.js';
import { SegmentWriter } from '../../archive/segmentWriter.js';
import { positionKey } from '../../crdt/index.js';
import { shardOf } from '../../ledger/shards.js';
import { retailRouter, retailStreams } from '../../retail/catalogue.js';
import { generateEvents } from '../../retail/generator.js';
import type { BenchReport, BenchRow } from '../report.js';

/*
 * `npm run bench -- rebuild [--events N] [--seed N] [--floor-events N]`: a generated history
 * archived in each format, then rebuilt end to end (`rebuildFromArchive` into a fresh
 * embedded store) with 1 and 2 workers; in the same run the two floors with the same
 * workers: folding events already decoded in memory (the fold floor, on up to
 * `--floor-events` events per worker), and only gunzipping and parsing the NDJSON segments
 * (the parse floor). Each measurement runs in a process of its own, for its peak RSS.
 */
const shards = 4;
const segmentBytes = 8 * 2 ** 20;
const targets = { fastOfFold: 0.8, fastRate: 1_000_000, ndjsonOfParse: 0.8, rssBytes: 2 ** 30 };
const child = fileURLToPath(new URL('../rebuild/child.ts', import.meta.url));
const run = promisify(execFile);

interface Measured {
  events: number;
  seconds: number;
  maxRssBytes: number;
}

export default async function rebuild(args: string[]): Promise<BenchReport> {
  const { values } = parseArgs({ args, options: { events: { type: 'string', default: '5000000' }, seed: { type: 'string', default: '1' }, 'floor-events': { type: 'string', default: '1000000' } } });
  const events = Number(values.events);
  const dir = await mkdtemp(join(tmpdir(), 'foldline-bench-rebuild-'));
  try {
    const archives: Record<ArchiveFormat, string> = { arrow: join(dir, 'arrow'), ndjson: join(dir, 'ndjson'), parquet: join(dir, 'parquet') };
    const bare = join(dir, 'bare');
    progress(`archiving ${events.toLocaleString('en-US')} generated events (seed ${values.seed}) as Arrow, NDJSON.gz and Parquet, and as a bare NDJSON.gz export`);
    await writeArchives(events, Number(values.seed), archives, bare);
    const rows: BenchRow[] = [];
    const measure = async (mode: string, archive: string, workers: number, extra: string[] = []): Promise<Measured> => {
      progress(`${mode} ${archive.split('/').at(-1)} with ${workers} worker(s)`);
      const { stdout } = await run(process.execPath, [...process.execArgv, child, mode, archive, String(workers), ...extra], { maxBuffer: 2 ** 20 });
      return JSON.parse(stdout) as Measured;
    };
    const rate = (m: Measured): number => m.events / m.seconds;
    for (const workers of [1, 2]) {
      const foldFloor = await measure('fold', archives.arrow, workers, [values['floor-events']!]);
      const parseFloor = await measure('parse', bare, workers);
      const floors = { fold: rate(foldFloor), parse: rate(parseFloor) };
      const row = (name: string, m: Measured, against: 'fold' | 'parse'): BenchRow => ({
        measurement: name,
        workers,
        events: m.events,
        seconds: Number(m.seconds.toFixed(2)),
        'events/s': Math.round(rate(m)),
        [`of floor`]: Number((rate(m) / floors[against]).toFixed(2)),
        floor: against,
        'peak RSS MiB': Math.round(m.maxRssBytes / 2 ** 20),
      });
      rows.push(row('fold floor (decoded in memory)', foldFloor, 'fold'));
      rows.push(row('parse floor (gunzip + JSON.parse)', parseFloor, 'parse'));
      rows.push(row('rebuild from Arrow', await measure('rebuild', archives.arrow, workers), 'fold'));
      rows.push(row('rebuild from bare NDJSON.gz', await measure('rebuild', bare, workers), 'parse'));
      rows.push(row('rebuild from NDJSON.gz archive', await measure('rebuild', archives.ndjson, workers), 'parse'));
      rows.push(row('rebuild from Parquet', await measure('rebuild', archives.parquet, workers), 'fold'));
    }
    return {
      suite: 'rebuild',
      rows,
      notes: [
        `targets with 2 workers: Arrow ≥ ${targets.fastOfFold} of the fold floor and ≥ ${targets.fastRate.toLocaleString('en-US')} events/s; bare NDJSON.gz ≥ ${targets.ndjsonOfParse} of the parse floor; peak RSS < 1 GiB`,
        `the retail generator (seed ${values.seed}), ${shards} shards per stream, segments of about ${segmentBytes / 2 ** 20} MiB of event JSON; a rebuild is timed end to end: workers started, segments read and checked, decoded, folded, states merged and committed with the checkpoint`,
        `fold floor: each worker folds up to ${Number(values['floor-events']).toLocaleString('en-US')} events of its shards decoded beforehand (untimed); parse floor: each worker reads, gunzips and JSON.parses its share of the bare export's files (plain CloudEvents, one a line, about ${segmentBytes / 2 ** 20} MiB of JSON a file); the slowest worker sets a floor's time`,
        `each measurement in a process of its own (peak RSS: its maxRSS, every thread); ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end, node ${process.version}`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The events as a ledger would number them, written straight into an archive of each format, and as a bare export. */
async function writeArchives(events: number, seed: number, archives: Record<ArchiveFormat, string>, bare: string): Promise<void> {
  const bareStorage = new DirStorage(bare);
  let bareLines: string[] = [];
  let bareBytes = 0;
  const flushBare = async (): Promise<void> => {
    if (bareLines.length === 0) return;
    const name = `part-${String((await bareStorage.list('')).length).padStart(5, '0')}.ndjson.gz`;
    await bareStorage.put(name, gzipSync(`${bareLines.join('\n')}\n`));
    bareLines = [];
    bareBytes = 0;
  };
  const streams = retailStreams(shards);
  const formats = Object.keys(archives) as ArchiveFormat[];
  const storages = formats.map((format) => new DirStorage(archives[format]));
  const writers = new Map<string, SegmentWriter[]>();
  const seqs = new Map<string, number>();
  for (const event of generateEvents({ seed, events })) {
    const stream = retailRouter(event);
    const shard = shardOf(event.subject, shards);
    const position = positionKey(stream, shard);
    const seq = (seqs.get(position) ?? 0) + 1;
    seqs.set(position, seq);
    let forShard = writers.get(position);
    if (!forShard) writers.set(position, (forShard = formats.map((format, i) => new SegmentWriter(storages[i]!, format, segmentBytes))));
    const record = { stream, shard, seq: String(seq), event };
    for (const writer of forShard) await writer.add(record);
    const line = JSON.stringify(event);
    bareLines.push(line);
    if ((bareBytes += line.length) >= segmentBytes) await flushBare();
  }
  await flushBare();
  for (const [i] of formats.entries()) {
    const segments = [];
    for (const forShard of writers.values()) {
      await forShard[i]!.flush();
      segments.push(...forShard[i]!.written);
    }
    await storages[i]!.put(manifestFile, Buffer.from(JSON.stringify({ ...emptyManifest(streams), segments })));
  }
}

function progress(message: string): void {
  process.stderr.write(`rebuild bench: ${message}\n`);
}
