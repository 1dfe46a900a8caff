import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { scheduleArrivals } from '../../client/load/arrivals.js';
import { catalogEvents } from '../../client/load/catalog.js';
import { LatencyRecorder, type LatencySummary } from '../../client/load/latencyRecorder.js';
import { Random } from '../../retail/random.js';
import { processCpu, residentBytes, threadsCpu, type CpuTimes } from '../processCpu.js';
import { automergeCarts } from './automergeCarts.js';
import type { CartsOptions, PeerCarts, PeerSystem } from './carts.js';
import { foldlineCarts } from './foldlineCarts.js';
import { hocuspocusCarts } from './hocuspocusCarts.js';

/*
 * The load of one peers run, in a process of its own (forked by bench/suites/peers.ts): the
 * subscribers and the writer of one system, a warm-up, then the measured adds; the server's
 * CPU is read from /proc around the measured window. Prints a PeerLoadReport as JSON.
 */

export interface PeerLoadOptions {
  system: PeerSystem;
  url: string;
  serverPid: number;
  carts: number;
  /** Adds per second, sent on schedule whatever the answers. */
  rate: number;
  adds: number;
  warmupSeconds: number;
  seed: number;
}

export interface PeerLoadReport {
  latencyMs: LatencySummary;
  /** Measured adds no subscriber saw within the drain. */
  unseen: number;
  /** Failed writes and error frames, by code. */
  failures: Record<string, number>;
  /** From the first measured add to the last seen (or the drain's end). */
  windowSeconds: number;
  /** `threads`: each thread's CPU by its id; `named`: those the server names itself (foldline's serving thread and fold worker). */
  server: { cpu: CpuTimes; threads: Array<{ tid: number } & CpuTimes>; named: Record<string, CpuTimes>; rssBytes: number };
  /** CPU of this load process over the window (1 = one core). */
  clientCores: number;
}

const systems: Record<PeerSystem, (options: CartsOptions) => Promise<PeerCarts>> = {
  foldline: foldlineCarts,
  hocuspocus: hocuspocusCarts,
  'automerge-repo': automergeCarts,
};
/** How long the last adds may go unseen after the last is sent. */
const drainMs = 10_000;

const options = JSON.parse(process.argv[2]!) as PeerLoadOptions;
const skus = [...new Set(catalogEvents(1, 50).map((event) => event.subject))];
const random = new Random(options.seed);
const latencies = new LatencyRecorder();
/** Per cart: adds sent, and the send times of those not seen yet, oldest first. */
const sent = Array.from({ length: options.carts }, () => ({ count: 0, unseen: [] as Array<{ n: number; at: number }> }));
let failures: Record<string, number> = {};
let lastSeen = 0;

const carts = await systems[options.system]({
  url: options.url,
  carts: options.carts,
  skus,
  seen(cart, total) {
    const now = performance.now();
    const { unseen } = sent[cart]!;
    while (unseen.length > 0 && unseen[0]!.n <= total) {
      latencies.record(now - unseen.shift()!.at);
      lastSeen = now;
    }
  },
  failed(error) {
    const code = (error as { code?: string }).code ?? String(error);
    failures[code] = (failures[code] ?? 0) + 1;
  },
});

let adds = 0;
const fire = (): void => {
  const cart = adds++ % options.carts;
  const entry = sent[cart]!;
  entry.unseen.push({ n: ++entry.count, at: performance.now() });
  carts.add(cart, random.pick(skus));
};
const outstanding = (): number => sent.reduce((sum, { unseen }) => sum + unseen.length, 0);
const sendFor = async (count: number): Promise<void> => {
  await scheduleArrivals(options.rate, count, fire, new AbortController().signal);
  const until = performance.now() + drainMs;
  while (outstanding() > 0 && performance.now() < until) await sleep(5);
};

await sendFor(Math.round(options.rate * options.warmupSeconds));
latencies.reset();
failures = {};
const namedBefore = (await carts.namedThreads?.()) ?? {};
const before = { at: performance.now(), server: processCpu(options.serverPid)!, threads: threadsCpu(options.serverPid), client: process.cpuUsage() };
await sendFor(options.adds);
const end = outstanding() === 0 ? lastSeen : performance.now();
const after = { server: processCpu(options.serverPid)!, threads: threadsCpu(options.serverPid), client: process.cpuUsage(before.client) };
const namedAfter = (await carts.namedThreads?.()) ?? {};
const windowSeconds = (end - before.at) / 1000;
const report: PeerLoadReport = {
  latencyMs: latencies.summary(),
  unseen: outstanding(),
  failures,
  windowSeconds,
  server: {
    cpu: { user: after.server.user - before.server.user, system: after.server.system - before.server.system },
    threads: [...after.threads].map(([tid, times]) => {
      const start = before.threads.get(tid) ?? { user: 0, system: 0 };
      return { tid, user: times.user - start.user, system: times.system - start.system };
    }),
    named: Object.fromEntries(
      Object.entries(namedAfter).map(([thread, times]) => [thread, { user: times.user - (namedBefore[thread]?.user ?? 0), system: times.system - (namedBefore[thread]?.system ?? 0) }]),
    ),
    rssBytes: residentBytes(options.serverPid) ?? 0,
  },
  clientCores: (after.client.user + after.client.system) / 1e6 / windowSeconds,
};
await carts.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
