import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { ShardLeases, type HeldLeases } from '../../backends/dynamodb/leases.js';
import { connectRedis } from '../../backends/redis/connect.js';
import type { CloudEvent } from '../../ledger/types.js';
import { retailDomain } from '../../retail/domain.js';
import { generateEvents } from '../../retail/generator.js';
import type { BackendChoice } from '../../service/backends.js';
import { startRole } from '../../service/roles.js';
import { startDynalite, startKinesalite, type Emulator } from '../emulators.js';
import type { BenchReport, BenchRow } from '../report.js';

/*
 * The same service (`--role all`) on each backend: appends of a generated history over HTTP
 * (batches of 500, one at a time) until acknowledged, then until a view read with the last
 * token answers (folded and stored); then effect after cause, one add-to-cart at a time,
 * appended and read back with its token. Kinesis and DynamoDB are the in-process
 * emulators: their figures show our overhead over an AWS API, not AWS's speed. Then the
 * failover of shard leases: the time from a lease holder's death to another holding every
 * lease, against the configured failover time.
 */
const silent = pino({ level: 'silent' });
const batch = 500;
const latencySamples = 100;
const failoverMs = 1000;

interface Setup {
  backend: string;
  choice: (dataDir: string) => BackendChoice;
}

async function post(url: string, events: readonly unknown[], query = ''): Promise<string> {
  const response = await fetch(`${url}/v1/events${query}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(events) });
  if (response.status !== 202 && response.status !== 200) throw new Error(`append → ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

async function read(url: string, view: string, key: string, token: string): Promise<void> {
  const response = await fetch(`${url}/v1/views/${view}/${encodeURIComponent(key)}?after=${token}&wait=60000`);
  if (response.status !== 200) throw new Error(`read ${view}/${key} → ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(setup: Setup, events: readonly CloudEvent[]): Promise<BenchRow> {
  const dataDir = await mkdtemp(join(tmpdir(), 'foldline-bench-backends-'));
  const service = await startRole({ role: 'all', choice: setup.choice(dataDir), failoverMs, domain: retailDomain, host: '127.0.0.1', port: 0, shards: 4, logger: silent });
  const url = service.url!;
  try {
    const customer = String(events.find((e) => typeof e.data['customerId'] === 'string')!.data['customerId']);
    const started = performance.now();
    let token = '';
    for (let i = 0; i < events.length; i += batch) token = await post(url, events.slice(i, i + batch));
    const acknowledged = performance.now();
    await read(url, 'cart', customer, token);
    const folded = performance.now();
    const latencies: number[] = [];
    for (let i = 0; i < latencySamples; i++) {
      const event = { specversion: '1.0', id: `bench-${i}`, source: '/bench', type: 'retail.cart.item-added', time: new Date().toISOString(), subject: 'c-bench', data: { customerId: 'c-bench', sku: 'sku-1', quantity: 1 } };
      const begun = performance.now();
      await read(url, 'cart', 'c-bench', await post(url, [event]));
      latencies.push(performance.now() - begun);
    }
    latencies.sort((a, b) => a - b);
    return {
      backend: setup.backend,
      events: events.length,
      'append events/s': Math.round(events.length / ((acknowledged - started) / 1000)),
      'append+fold events/s': Math.round(events.length / ((folded - started) / 1000)),
      'effect after cause p50 ms': percentile(latencies, 50),
      'p99 ms': percentile(latencies, 99),
    };
  } finally {
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** From a holder's death (it stops renewing) to the other holding every lease. */
async function failover(dynamo: Emulator): Promise<BenchRow> {
  const positions = Array.from({ length: 12 }, (_, i) => `s/${i}`);
  const name = `bench-failover-${process.pid}`;
  const open = (owner: string): Promise<ShardLeases> =>
    ShardLeases.open({ endpoint: dynamo.endpoint, region: 'us-east-1', name, create: true, consumer: 'c', owner, positions, failoverMs, logger: silent });
  const [a, b] = await Promise.all([open('a'), open('b')]);
  const heldBy = new Map<string, HeldLeases>();
  const waiters = new Set<() => void>();
  for (const [owner, leases] of [['a', a], ['b', b]] as const) {
    leases.start((held) => {
      heldBy.set(owner, held);
      for (const wake of waiters) wake();
    });
  }
  const until = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise<void>((resolve) => waiters.add(resolve));
  };
  await until(() => (heldBy.get('a')?.size ?? 0) + (heldBy.get('b')?.size ?? 0) === positions.length && (heldBy.get('a')?.size ?? 0) > 0);
  await a.stop(false);
  const died = performance.now();
  await until(() => heldBy.get('b')?.size === positions.length);
  const took = performance.now() - died;
  await b.stop(true);
  return { backend: 'lease failover (DynamoDB)', events: 0, 'failover ms': Math.round(took), 'configured ms': failoverMs };
}

export default async function backends(args: string[]): Promise<BenchReport> {
  const count = Number(args[0] ?? 10_000);
  const events: CloudEvent[] = [...generateEvents({ seed: 5, events: count })];
  const redisUrl = process.env['FOLDLINE_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';
  const name = `bench-${process.pid}`;
  const [kinesis, dynamo] = await Promise.all([startKinesalite(), startDynalite()]);
  const common = { redisUrl, region: 'us-east-1', create: true, kinesisEndpoint: kinesis.endpoint, dynamodbEndpoint: dynamo.endpoint };
  const setups: Setup[] = [
    { backend: 'embedded (LMDB ledger and store)', choice: (dataDir) => ({ ...common, ledger: 'embedded', store: 'embedded', dataDir, name }) },
    { backend: 'Redis Streams ledger, embedded store', choice: (dataDir) => ({ ...common, ledger: 'redis', store: 'embedded', dataDir, name: `${name}-redis` }) },
    { backend: 'Redis Streams ledger, DynamoDB store (dynalite)', choice: () => ({ ...common, ledger: 'redis', store: 'dynamodb', name: `${name}-redis-dynamo` }) },
    { backend: 'Kinesis (kinesalite) + DynamoDB (dynalite)', choice: () => ({ ...common, ledger: 'kinesis', store: 'dynamodb', name: `${name}-kinesis` }) },
  ];
  const rows: BenchRow[] = [];
  try {
    for (const setup of setups) {
      process.stderr.write(`backends: ${setup.backend}\n`);
      rows.push(await measure(setup, events));
    }
    rows.push(await failover(dynamo));
  } finally {
    await Promise.all([kinesis.close(), dynamo.close()]);
    // The Redis keys of the runs: streams, identities, heads.
    const redis = await connectRedis(redisUrl);
    for (const prefix of [`${name}-redis`, `${name}-redis-dynamo`]) {
      const keys = await redis.keys(`{${prefix}}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await redis.quit();
  }
  return {
    suite: 'backends',
    rows,
    notes: [
      `${count} generated events appended in batches of ${batch}, one request at a time; append+fold: until a view read with the last token answers`,
      `effect after cause: ${latencySamples} single add-to-cart appends, each read back with its token (append, fold, read)`,
      'service, emulators and client share this process: the emulators show our overhead over an AWS API, not AWS',
    ],
  };
}
