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
const repeats = 2;

async function bare(urls: readonly string[], bodies: readonly string[]): Promise<number> {
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

async function fanout(ledger: Ledger, urls: readonly string[], dir: string, round: number): Promise<number> {
  const store = new EmbeddedSubscriptionStore(join(dir, `subscriptions-${round}`));
  const subscriptions = await Subscriptions.open({ ledger, store, logger: pino({ level: 'silent' }) });
  const started = performance.now();
  for (const [index, url] of urls.entries()) await subscriptions.add({ name: `hook-${index}`, url, secret: 'a-bench-secret-of-some-length', from: 'start' });
  for (;;) {
    const listed = await subscriptions.list();
    if (listed.every((status) => status.lag === 0 && status.delivered === events)) break;
    if (listed.some((status) => status.deadLetters > 0 || status.failedAttempts > 0)) throw new Error('a delivery failed');
    await sleep(5);
  }
  const elapsed = performance.now() - started;
  await subscriptions.close();
  await store.close();
  return elapsed;
}

export default async function run(): Promise<BenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'foldline-bench-fanout-'));
  const receivers = fork(fileURLToPath(new URL('../fanout/receivers.ts', import.meta.url)), [String(subscribers)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const urls = await new Promise<string[]>((resolve) => receivers.once('message', (message) => resolve(message as string[])));
  const ledger = await ledgerBackend.open({ path: join(dir, 'ledger') }, { streams: retailDomain.streams(4), route: retailDomain.route });
  const generated: CloudEvent[] = [...retailDomain.generate!({ seed, events })];
  await ledger.append(generated);
  const bodies = generated.map((event) => JSON.stringify(event));
  const rows: BenchRow[] = [];
  const deliveries = subscribers * events;
  try {
    // Warm-up of both paths (JIT, connections) before anything is timed.
    await bare(urls, bodies.slice(0, 100));
    for (let round = 0; round < repeats; round++) {
      const bareMs = await bare(urls, bodies);
      const fanoutMs = await fanout(ledger, urls, dir, round);
      const bareRate = (deliveries / bareMs) * 1000;
      const fanoutRate = (deliveries / fanoutMs) * 1000;
      rows.push({ round: round + 1, 'bare posts/s': Math.round(bareRate), 'webhook deliveries/s': Math.round(fanoutRate), ratio: Number((fanoutRate / bareRate).toFixed(3)) });
    }
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
      'webhook deliveries: added from the start of the ledger, timed until every subscription has delivered every event and checkpointed; target ratio ≥ 0.8',
    ],
  };
}
