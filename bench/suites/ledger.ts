import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmbeddedLedger } from '../../ledger/embeddedLedger.js';
import type { CloudEvent, Ledger } from '../../ledger/types.js';
import { retailRouter, retailStreams } from '../../retail/catalogue.js';
import { generateEvents } from '../../retail/generator.js';
import type { BenchReport, BenchRow } from '../report.js';

/*
 * The embedded ledger on this machine's disk: durable batched appends (every append
 * resolves only after its group commit is fsynced), single-event appends sharing group
 * commits, and records read back shard by shard. Args: [events] (default 200,000).
 */
const batchSize = 1000;
const batchesInFlight = 8;
const singleEvents = 20_000;
const singlesInFlight = 256;
const readPage = 1000;
/** Appended first, untimed, so that the timed runs measure compiled code. */
const warmUpEvents = 10_000;
const readPasses = 3;
const targets = { appends: 100_000, reads: 500_000 };

export default async function run(args: string[]): Promise<BenchReport> {
  const count = Number(args[0] ?? 200_000);
  const events = [...generateEvents({ seed: 7, events: warmUpEvents + count + singleEvents })];
  const path = await mkdtemp(join(tmpdir(), 'foldline-bench-ledger-'));
  const ledger = await EmbeddedLedger.open({ path, streams: retailStreams(4), route: retailRouter });
  try {
    await appendConcurrently(ledger, chunks(events.slice(0, warmUpEvents), batchSize), batchesInFlight);
    const batched = await timed(() => appendConcurrently(ledger, chunks(events.slice(warmUpEvents, warmUpEvents + count), batchSize), batchesInFlight));
    const singles = await timed(() => appendConcurrently(ledger, chunks(events.slice(warmUpEvents + count), 1), singlesInFlight));
    let records = 0;
    let reading = Infinity;
    for (let pass = 0; pass < readPasses; pass++) {
      records = 0;
      reading = Math.min(
        reading,
        await timed(async () => {
          for (const { name, shards } of ledger.streams) for (let shard = 0; shard < shards; shard++) records += await readShard(ledger, name, shard);
        }),
      );
    }
    const rows: BenchRow[] = [
      row(`durable appends, batches of ${batchSize}, ${batchesInFlight} in flight`, count, batched, targets.appends),
      row(`durable appends, single events, ${singlesInFlight} in flight`, singleEvents, singles),
      row(`records read, all ${ledger.streams.length * 4} shards, pages of ${readPage}, best of ${readPasses}`, records, reading, targets.reads),
    ];
    return {
      suite: 'ledger',
      rows,
      notes: [
        `targets: ≥ ${targets.appends.toLocaleString('en-US')} durable appends/s batched, ≥ ${targets.reads.toLocaleString('en-US')} records read/s`,
        `events from the retail generator (seed 7), after ${warmUpEvents.toLocaleString('en-US')} untimed warm-up appends; an event counts once its append resolved, i.e. after the fsync of its group commit`,
        `records read include the warm-up and single-event appends; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end, node ${process.version}, data under ${tmpdir()}`,
      ],
    };
  } finally {
    await ledger.close();
    await rm(path, { recursive: true, force: true });
  }
}

function row(name: string, items: number, seconds: number, target?: number): BenchRow {
  const perSecond = Math.round(items / seconds);
  return {
    measurement: name,
    items,
    seconds: Number(seconds.toFixed(3)),
    'per second': perSecond,
    ...(target === undefined ? {} : { target, met: perSecond >= target ? 'yes' : 'NO' }),
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** Keeps `inFlight` appends going until every batch is durable. */
async function appendConcurrently(ledger: Ledger, batches: CloudEvent[][], inFlight: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) await ledger.append(batches[next++]!);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function readShard(ledger: Ledger, stream: string, shard: number): Promise<number> {
  let count = 0;
  let after: string | null = null;
  for (;;) {
    const records = await ledger.read(stream, shard, after, readPage);
    count += records.length;
    if (records.length < readPage) return count;
    after = records[records.length - 1]!.seq;
  }
}
