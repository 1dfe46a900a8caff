import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AutomergeUrl } from '@automerge/automerge-repo';
import { startServer, type ServerProcess } from '../../cli/serverProcess.js';
import { LatencyRecorder, type LatencySummary } from '../../client/load/latencyRecorder.js';
import { residentBytes } from '../processCpu.js';
import type { BenchReport, BenchRow } from '../report.js';
import { measureAutomerge } from '../sync/automergeCosts.js';
import { RawDevice } from '../sync/rawDevice.js';

/*
 * Synced cart documents on `foldline start` (docs/offline.md): devices, each with its own
 * cart and socket on /v1/sync, load their documents at once (documents loaded per second,
 * all of them new), each makes one edit, and the server's resident memory is read before
 * the devices connected and 2 s after their edits; with 1,000 devices connected, single
 * edits paced over random devices measure the sync round trip (the change sent → a server
 * sync message listing its head; 50 edits/s: each device editing once every 20 s). Then Automerge 3.5 alone, in this process: a cart
 * document's memory and the apply path the server uses.
 */
const defaultScales = [1000, 10_000];
const roundTrips = 1000;
const roundTripRate = 50;
const p99TargetMs = 50;
const bytesPerCartTarget = 100 * 1024;

async function inBatches<T, R>(items: readonly T[], size: number, each: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map((item, i) => each(item, start + i)))));
  return results;
}

async function documentUrl(base: string, customerId: string): Promise<AutomergeUrl> {
  const response = await fetch(`${base}/v1/carts/${customerId}/document`);
  if (response.status !== 200) throw new Error(`GET document: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { url: AutomergeUrl }).url;
}

interface ScaleRun {
  carts: number;
  loadedPerSecond: number;
  rssBefore: number;
  rssAfter: number;
  roundTrip?: LatencySummary;
}

async function measureScale(server: ServerProcess, carts: number, run: number, measureRoundTrips: boolean): Promise<ScaleRun> {
  const pid = server.child.pid!;
  const syncUrl = `${server.url.replace('http', 'ws')}/v1/sync`;
  const urls = await inBatches(Array.from({ length: carts }, (_, i) => `bench-${run}-${i}`), 100, (customerId) => documentUrl(server.url, customerId));
  await sleep(1000);
  const rssBefore = residentBytes(pid)!;
  const devices = urls.map((url, i) => new RawDevice(syncUrl, url, i));
  await inBatches(devices, 200, (device) => device.connect());
  const loadStart = performance.now();
  await Promise.all(devices.map((device) => device.load()));
  const loadedPerSecond = carts / ((performance.now() - loadStart) / 1000);
  process.stderr.write(`sync: ${carts} documents loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s\n`);
  const editStart = performance.now();
  await inBatches(devices, 200, (device) => device.roundTrip('sku-1'));
  process.stderr.write(`sync: ${carts} first edits synced in ${((performance.now() - editStart) / 1000).toFixed(1)} s\n`);
  await sleep(2000);
  const rssAfter = residentBytes(pid)!;
  let roundTrip: LatencySummary | undefined;
  if (measureRoundTrips) {
    const recorder = new LatencyRecorder();
    const trips: Array<Promise<void>> = [];
    const started = performance.now();
    for (let i = 0; i < roundTrips; i++) {
      const due = started + (i * 1000) / roundTripRate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const device = devices[Math.floor(Math.random() * devices.length)]!;
      trips.push(device.roundTrip(`sku-${i % 5}`).then((ms) => recorder.record(ms)));
    }
    await Promise.all(trips);
    roundTrip = recorder.summary();
  }
  for (const device of devices) device.close();
  return { carts, loadedPerSecond, rssBefore, rssAfter, ...(roundTrip ? { roundTrip } : {}) };
}

/** `npm run bench -- sync [rounds] [carts…]`: round trips are measured at the first scale. */
export default async function sync(args: string[]): Promise<BenchReport> {
  const rounds = Number(args[0] ?? 1);
  const scales = args.length > 1 ? args.slice(1).map(Number) : defaultScales;
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const carts of scales) {
      process.stderr.write(`sync: round ${round}/${rounds}, ${carts} carts\n`);
      const server = await startServer();
      let result: ScaleRun;
      try {
        result = await measureScale(server, carts, round, carts === scales[0]);
      } finally {
        await server.stop();
      }
      const perCart = (result.rssAfter - result.rssBefore) / carts;
      const trip = result.roundTrip;
      rows.push({
        round,
        'connected carts': carts,
        'docs loaded/s': Math.round(result.loadedPerSecond),
        'server RSS MB before/after': `${Math.round(result.rssBefore / 2 ** 20)}/${Math.round(result.rssAfter / 2 ** 20)}`,
        'KiB per connected cart': Math.round(perCart / 1024 * 10) / 10,
        'round trip p50/p99/max ms': trip ? `${trip.p50}/${trip.p99}/${trip.max}` : '-',
      });
      notes.push(`round ${round}, ${carts} carts: ${(perCart / 1024).toFixed(1)} KiB of server memory per connected cart (target < ${bytesPerCartTarget / 1024}): ${perCart < bytesPerCartTarget ? 'met' : 'MISSED'}`);
      if (trip) notes.push(`round ${round}, ${carts} connected: round trip p99 ${trip.p99} ms over ${trip.count} (target < ${p99TargetMs}): ${trip.p99 < p99TargetMs ? 'met' : 'MISSED'}`);
    }
    const costs = measureAutomerge();
    rows.push({
      round,
      'connected carts': 'Automerge alone',
      'KiB per connected cart': Math.round((costs.bytesPerDocument / 1024) * 10) / 10,
      'round trip p50/p99/max ms': `apply ${costs.syncApplyMsPerChange.toFixed(3)} ms/change by sync message, ${costs.batchApplyMsPerChange.toFixed(4)} batched; decode ${costs.decodeMsPerChange.toFixed(3)}`,
      'server RSS MB before/after': `kept after free: ${(costs.bytesKeptAfterFree / 1024).toFixed(1)} KiB/doc`,
    });
  }
  return {
    suite: 'sync',
    rows,
    notes: [
      ...notes,
      `each scale on a fresh foldline start (embedded durable LMDB ledger and store), devices in this process speaking automerge-repo's WebSocket protocol directly (one socket, one Automerge document each); every cart new; KiB per cart: the server's resident memory 2 s after every device's first edit, minus before they connected, over the carts`,
      `round trip: ${roundTrips} single increments paced at ${roundTripRate}/s over random devices of the first scale; from the change made to a server sync message listing its head (the server applied it; its events are appended after)`,
      'Automerge alone: 1,000 three-item carts loaded in this process (resident memory), then freed; 1,000 single-increment changes applied one sync message at a time (as the server repo applies an edit), in one applyChanges, and read back and decoded (as the ledger mirror reads each)',
    ],
  };
}
