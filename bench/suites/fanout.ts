import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Pool } from 'undici';
import { ledgerBackend } from '../../ledger/embeddedBackend.js';
import type { CloudEvent, Ledger } from '../../ledger/types.js';
import { retailDomain } from '../../retail/domain.js';
import { EmbeddedSubscriptionStore } from '../../subscriptions/embeddedStore.js';
import { defaultDelivery, Subscriptions } from '../../subscriptions/subscriptions.js';
import { collectGarbage } from '../gc.js';
import { median } from '../median.js';
import type { BenchReport, BenchRow } from '../report.js';

/*
 * Webhook fan-out against a bare poster, in the same run: 50 subscriptions, each delivering
 * every one of the same events (retail traffic in an embedded ledger) to its own endpoint
 * (HTTP servers in a child process), against the same bodies POSTed to the same endpoints
 * by a bare loop on undici pools with as many requests in flight per endpoint. The
 * subscriptions add what the bare loop does not do: reading the ledger from their own
 * checkpoints, signing, per-key order, checkpoints and metrics. Target: ≥ 0.8 of the bare rate.
 */
const subscribers = 50;
const events = 1_000;
const seed = 20_261_205;
const repeats = 5;

async function bare(urls: readonly string[], bodies: readonly Buffer[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    urls.map(async (url) => {
      const target = new URL(url);
      const pool = new Pool(target.origin, { connections: defaultDelivery.concurrency });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const response = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body });
          await response.body.dump();
          if (response.statusCode >= 300) throw new Error(`endpoint answered ${response.statusCode}`);
        }
      };
      await Promise.all(Array.from({ length: defaultDelivery.concurrency }, worker));
      await pool.destroy();
    }),
  );
  return performance.now() - started;
}

async function fanout(ledger: Ledger, urls: readonly string[], dir: string, round: number | 'warm-up'): Promise<number> {
  const store = new EmbeddedSubscriptionStore(join(dir, `subscriptions-${round}`));
  // Stored first, as a restart finds them: every subscription starts at once, from the ledger's start.
  for (const [index, url] of urls.entries()) {
    await store.put({ name: `hook-${index}`, url, secret: `a-bench-secret-of-hook-${index}`, createdAt: new Date().toISOString() }, {});
  }
  const started = performance.now();
  const subscriptions = await Subscriptions.open({ ledger, store, logger: pino({ level: 'silent' }) });
  for (;;) {
    const listed = await subscriptions.list();
    if (listed.every((status) => status.lag === 0 && status.delivered === events)) break;
    if (listed.some((status) => status.deadLetters > 0 || status.failedAttempts > 0)) throw new Error('a delivery failed');
    await sleep(20);
  }
  const elapsed = performance.now() - started;
  await subscriptions.close();
  await store.close();
  return elapsed;
}

/** CPU time of this process since `start`, µs (user and system, every thread). */
function cpuSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return user + system;
}

export default async function run(): Promise<BenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'foldline-bench-fanout-'));
  const receivers = fork(fileURLToPath(new URL('../fanout/receivers.ts', import.meta.url)), [String(subscribers)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const urls = await new Promise<string[]>((resolve) => receivers.once('message', (message) => resolve(message as string[])));
  const ledger = await ledgerBackend.open({ path: join(dir, 'ledger') }, { streams: retailDomain.streams(4), route: retailDomain.route });
  const generated: CloudEvent[] = [...retailDomain.generate!({ seed, events })];
  await ledger.append(generated);
  // Encoded once, as the subscriptions encode each event once for all of them.
  const bodies = generated.map((event) => Buffer.from(JSON.stringify(event)));
  const rows: BenchRow[] = [];
  const deliveries = subscribers * events;
  try {
    // An untimed round of both paths first: JIT compilation belongs to starting, as in the other suites.
    await bare(urls, bodies);
    await fanout(ledger, urls, dir, 'warm-up');
    const trials: Array<{ bareRate: number; fanoutRate: number; bareCpu: number; fanoutCpu: number }> = [];
    for (let round = 0; round < repeats; round++) {
      // Alternating which goes first, each part on a collected heap, so that neither pays for the other's garbage or place.
      const timed = async (part: () => Promise<number>): Promise<{ rate: number; cpuPerDelivery: number }> => {
        collectGarbage();
        const cpu = process.cpuUsage();
        const ms = await part();
        return { rate: (deliveries / ms) * 1000, cpuPerDelivery: cpuSince(cpu) / deliveries };
      };
      const bareFirst = round % 2 === 0;
      const first = await timed(bareFirst ? () => bare(urls, bodies) : () => fanout(ledger, urls, dir, round));
      const second = await timed(bareFirst ? () => fanout(ledger, urls, dir, round) : () => bare(urls, bodies));
      const [barePart, fanoutPart] = bareFirst ? [first, second] : [second, first];
      trials.push({ bareRate: barePart.rate, fanoutRate: fanoutPart.rate, bareCpu: barePart.cpuPerDelivery, fanoutCpu: fanoutPart.cpuPerDelivery });
    }
    const row = (name: string, trial: (typeof trials)[number]): BenchRow => ({
      round: name,
      'bare posts/s': Math.round(trial.bareRate),
      'webhook deliveries/s': Math.round(trial.fanoutRate),
      ratio: Number((trial.fanoutRate / trial.bareRate).toFixed(3)),
      'bare CPU µs/post': Math.round(trial.bareCpu),
      'webhook CPU µs/delivery': Math.round(trial.fanoutCpu),
    });
    trials.forEach((trial, index) => rows.push(row(String(index + 1), trial)));
    rows.push(row('median', { bareRate: median(trials.map((t) => t.bareRate)), fanoutRate: median(trials.map((t) => t.fanoutRate)), bareCpu: median(trials.map((t) => t.bareCpu)), fanoutCpu: median(trials.map((t) => t.fanoutCpu)) }));
  } finally {
    await ledger.close();
    receivers.send('exit');
    await rm(dir, { recursive: true, force: true });
  }
  return {
    suite: 'fanout',
    rows,
    notes: [
      `${subscribers} subscriptions × ${events} events (retail traffic, seed ${seed}) = ${deliveries} deliveries per round; ${defaultDelivery.concurrency} in flight per endpoint on both sides; endpoints in a child process answering 204`,
      'webhook deliveries: 50 subscriptions stored from the start of the ledger, timed from opening them until every one has delivered every event and checkpointed',
      `${repeats} alternating trials after an untimed one of each; the target, ratio ≥ 0.8, is judged on the medians (the last row), since a trial's speed swings with the VM's`,
      'CPU: of this process (both sides post from it; the endpoints are in the other), per delivery',
    ],
  };
}
