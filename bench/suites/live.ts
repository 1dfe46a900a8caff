import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { missingServiceFlags, serviceNodeFlags } from '../../cli/heapFlags.js';
import { appendModes, type AppendMode } from '../../client/load/appenders.js';
import { catalogEvents } from '../../client/load/catalog.js';
import type { LoadReport } from '../../client/load/runLoad.js';
import type { Frontier } from '../../crdt/index.js';
import { startGateway } from '../../gateway/server.js';
import { defaultLimits } from '../../gateway/types.js';
import { MemoryLedger } from '../../ledger/memoryLedger.js';
import { encodeToken } from '../../ledger/token.js';
import { retailDomain } from '../../retail/domain.js';
import { retailRouter, retailStreams } from '../../retail/catalogue.js';
import { validateBatch } from '../../retail/validation.js';
import { startService } from '../../service/service.js';
import { collectGarbage } from '../gc.js';
import { cartPayloads } from '../live/cartPayloads.js';
import { PushClients } from '../live/clientProcess.js';
import { DrivenViews } from '../live/drivenViews.js';
import { measurePushes, type PushFigures } from '../live/pushThroughput.js';
import { startRawServer } from '../live/rawServer.js';
import type { BenchReport, BenchRow } from '../report.js';

/*
 * The live half under load, in one run on one machine (2 cores: the server and its clients
 * each get about one, the clients always in another process).
 * 1. Effect after cause: a fresh server in this process; `foldline load` in a child process
 *    with 500 WebSocket subscribers, each on its own customer's cart, and 1,000 cart appends/s
 *    for those customers: append sent → push received, HDR percentiles. Twice: appends posted
 *    over HTTP (one request per event), then sent over the customers' WebSockets.
 * 2. Push throughput: the gateway's push path (DrivenViews in place of the view engine, so
 *    only the gateway is measured) next to a bare uWebSockets.js server sending the same cart
 *    frames under the same rules, to the same 500 clients in a child process.
 */
const rate = 1000;
const subscribers = 500;
const loadSeconds = 12;
/** Sent before the measured seconds and left out of the latencies, as the fold suite warms its folds up. */
const warmupSeconds = 3;
const pushSeconds = 3;
const pushTrials = 3;
const catalogProducts = 50;
const bin = fileURLToPath(new URL('../../bin/foldline.js', import.meta.url));

export default async function live(args: string[]): Promise<BenchReport> {
  const seconds = Number(args[0] ?? loadSeconds);
  const runs = [];
  // Each part starts on a collected heap: a server the process ran before leaves its garbage
  // to the next part's major GCs, which showed in its p99 (docs/benchmarks.md).
  for (const via of appendModes) {
    collectGarbage();
    runs.push({ via, ...(await effectAfterCause(seconds, via)) });
  }
  const catalog = catalogEvents(1, catalogProducts);
  const payload = cartPayloads(catalog);
  const keys = Array.from({ length: subscribers }, (_, i) => `c-${i}`);
  collectGarbage();
  const { gateway, raw } = await comparePushes(keys, payload, runs[0]!.frontier);
  const rows: BenchRow[] = runs.flatMap(({ via, load, eventLoop }): BenchRow[] => {
    const l = load.latencyMs;
    const a = load.ackLatencyMs;
    return [
      { measure: `effect after cause, ${via} appends (ms)`, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, count: l.count, of: load.expectedDeliveries },
      { measure: `append acknowledged, ${via} (ms)`, p50: a.p50, p90: a.p90, p99: a.p99, max: a.max, count: a.count },
      { measure: `server event-loop delay, ${via} run (ms)`, p50: eventLoop.p50, p90: eventLoop.p90, p99: eventLoop.p99, max: eventLoop.max },
    ];
  });
  rows.push(pushRow('gateway pushes', gateway), pushRow('raw uWebSockets.js pushes', raw));
  return {
    suite: 'live',
    rows,
    notes: [
      ...runs.flatMap(({ via, load }) => [
        `load (${via} appends): ${load.appends.sent} cart appends sent at ${rate}/s for ${seconds} s after ${load.warmupSeconds} s of warm-up at the same rate (its latencies left out; the event-loop delay covers it), ${load.appends.acknowledged} acknowledged, ${load.throughput.eventsPerSecond} events/s acknowledged, ${load.throughput.pushesPerSecond} pushes/s received; timeouts ${load.timeouts}, errors ${JSON.stringify(load.errors)}, worst send lag ${load.maxSendLagMs} ms`,
        `effect-after-cause p99 with ${via} appends ${load.latencyMs.p99} ms (target < 25 ms): ${load.latencyMs.p99 < 25 ? 'met' : 'MISSED'}`,
      ]),
      `gateway/raw push throughput ${(gateway.pushesPerSecond / raw.pushesPerSecond).toFixed(2)} (target ≥ 0.8), server CPU per push gateway/raw ${(gateway.serverCpuMicrosPerPush / raw.serverCpuMicrosPerPush).toFixed(2)}`,
      `push throughput: every one of ${subscribers} keys changes once per event-loop turn for ${pushSeconds} s, gateway and raw in ${pushTrials} alternating trials each (medians shown); each client (one per key, all in one child process, counting frames without parsing them) gets its key's frames; the newest value only while a socket is over ${defaultLimits.pushBackpressureBytes / 1024} KiB buffered, in both servers`,
      'the server of part 1 runs in the bench process; server CPU counts every thread of that process; the load generator (500 sockets and the appends) shares the other core',
      missingServiceFlags().length === 0 ? `the bench process runs with the service's V8 flags (${serviceNodeFlags.join(' ')}), as npm start does` : `the bench process LACKS the service's V8 flags ${missingServiceFlags().join(' ')}: run it with npm run bench`,
    ],
  };
}

function pushRow(measure: string, figures: PushFigures): BenchRow {
  return { measure, 'pushes/s': figures.pushesPerSecond, 'bytes/frame': figures.frameBytes, 'server µs/push': figures.serverCpuMicrosPerPush, 'server cores': figures.serverCores, 'client cores': figures.clientCores, rounds: figures.rounds };
}

async function effectAfterCause(seconds: number, via: AppendMode): Promise<{ load: LoadReport; eventLoop: { p50: number; p90: number; p99: number; max: number }; frontier: Frontier }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'foldline-bench-live-'));
  const service = await startService({ domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 4, logger: pino({ level: 'warn' }) });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  try {
    delay.enable();
    const load = await runLoadProcess(service.url, seconds, via);
    delay.disable();
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const eventLoop = { p50: ms(delay.percentile(50)), p90: ms(delay.percentile(90)), p99: ms(delay.percentile(99)), max: ms(delay.max) };
    return { load, eventLoop, frontier: service.views.frontier() };
  } finally {
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * `foldline load … --json` in its own process, with the node flags its command line gives it
 * (its own GC pauses would count in the latencies it measures); its progress lines pass
 * through to stderr.
 */
function runLoadProcess(url: string, seconds: number, via: AppendMode): Promise<LoadReport> {
  const child = spawn(
    process.execPath,
    [...serviceNodeFlags, bin, 'load', '--url', url, '--scenario', 'cart', '--rate', String(rate), '--duration', String(seconds), '--warmup', String(warmupSeconds), '--subscribers', String(subscribers), '--catalog', String(catalogProducts), '--append', via, '--json'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as LoadReport) : reject(new Error(`foldline load exited with ${code}`))));
  });
}

type Payload = (key: string, round: number) => unknown;

/** A server under test: its clients are up, `publish` changes one key's value. */
interface PushTarget {
  clients: PushClients;
  publish(key: string, round: number): void;
}

/**
 * Gateway and raw server side by side, measured in alternating trials, the median of each
 * kept: other work on the machine then weighs on both alike.
 */
async function comparePushes(keys: readonly string[], payload: Payload, frontier: Frontier): Promise<{ gateway: PushFigures; raw: PushFigures }> {
  const views = new DrivenViews('cart', (key) => payload(key, 0), frontier);
  const gateway = await startGateway({
    ledger: new MemoryLedger({ streams: retailStreams(4), route: retailRouter }),
    validate: validateBatch,
    views,
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'warn' }),
    registry: new Registry(),
  });
  const raw = await startRawServer({ token: encodeToken(frontier), initial: (key) => payload(key, 0), backpressureBytes: defaultLimits.pushBackpressureBytes });
  const started: PushClients[] = [];
  try {
    const target = async (url: string, publish: (key: string, round: number) => void): Promise<PushTarget> => {
      const clients = await PushClients.start(url, keys.length);
      started.push(clients);
      return { clients, publish };
    };
    const targets = {
      gateway: await target(`ws://127.0.0.1:${gateway.port}/v1/live`, (key, round) => views.publish(key, payload(key, round))),
      raw: await target(raw.url, (key, round) => raw.publish(key, payload(key, round))),
    };
    const trials: Record<'gateway' | 'raw', PushFigures[]> = { gateway: [], raw: [] };
    for (let trial = 0; trial < pushTrials; trial++) {
      for (const name of ['gateway', 'raw'] as const) {
        const { clients, publish } = targets[name];
        trials[name].push(await measurePushes(clients, keys, publish, pushSeconds));
      }
    }
    const median = (figures: PushFigures[]): PushFigures => [...figures].sort((a, b) => a.pushesPerSecond - b.pushesPerSecond)[Math.floor(figures.length / 2)]!;
    return { gateway: median(trials.gateway), raw: median(trials.raw) };
  } finally {
    await Promise.all(started.map((clients) => clients.close()));
    await gateway.close();
    raw.close();
  }
}
