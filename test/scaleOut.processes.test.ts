import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, startKinesalite, type Emulator } from '../bench/emulators.js';
import { serviceNodeFlags } from '../cli/heapFlags.js';
import type { CloudEvent } from '../ledger/types.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import { startService } from '../service/service.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { expectSameViews, postBatch, viewText } from './support/deployment.js';
import { LiveClient } from './support/liveClient.js';
import { dropRedisKeys, redisUrl, uniqueName } from './support/redis.js';

/*
 * The acceptance of a scaled-out deployment, as processes: two `--role projector` and two
 * `--role gateway` on kinesalite, dynalite and redis-server. A generated history is posted
 * through gateway 1; one projector is killed (SIGKILL) midway; every view read through
 * gateway 2 equals an embedded service's for the same history (so no event was counted
 * twice, nor lost), and a subscriber on gateway 2 is pushed what was appended through gateway 1.
 */
const bin = fileURLToPath(new URL('../bin/foldline.js', import.meta.url));
let kinesis: Emulator;
let dynamo: Emulator;
const name = uniqueName('processes');
const children: ChildProcess[] = [];

beforeAll(async () => {
  [kinesis, dynamo] = await Promise.all([startKinesalite(), startDynalite()]);
});
afterAll(async () => {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(running.map((child) => new Promise((exited) => child.once('exit', exited).kill('SIGKILL'))));
  await Promise.all([kinesis.close(), dynamo.close()]);
  await dropRedisKeys(name);
});

/** Starts `foldline start --role ROLE`, resolving with what it printed once started (its URL, for a gateway). */
function startRole(role: 'projector' | 'gateway'): Promise<{ child: ChildProcess; url?: string }> {
  const child = spawn(process.execPath, [...serviceNodeFlags, bin, 'start', '--role', role, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      FOLDLINE_LOG_LEVEL: 'warn',
      FOLDLINE_LEDGER: 'kinesis',
      FOLDLINE_STORE: 'dynamodb',
      FOLDLINE_KINESIS_ENDPOINT: kinesis.endpoint,
      FOLDLINE_DYNAMODB_ENDPOINT: dynamo.endpoint,
      FOLDLINE_REDIS_URL: redisUrl,
      FOLDLINE_NAME: name,
      FOLDLINE_FAILOVER_MS: '1500',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (http:\/\/\S+)/.exec(output);
      if (listening) resolve({ child, url: listening[1]! });
      else if (output.includes(`foldline ${role} running`)) resolve({ child });
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`foldline start --role ${role} exited with ${code}:\n${output}`)));
  });
}

describe('a scaled-out deployment of processes', () => {
  it('survives a projector killed midway with every view as an embedded run has it', async () => {
    // The first starts create the streams and tables; the others find them.
    const first = await startRole('projector');
    const [second, gatewayOne, gatewayTwo] = await Promise.all([startRole('projector'), startRole('gateway'), startRole('gateway')]);
    const events: CloudEvent[] = [...generateEvents({ seed: 23, events: 1000 })];
    const customer = events.find((e) => e.type === 'retail.cart.item-added')!.data['customerId'] as string;

    const live = await LiveClient.open(`${gatewayTwo.url!.replace('http', 'ws')}/v1/live`);
    live.send({ op: 'subscribe', ref: 1, view: 'cart', key: customer });
    await live.next((frame) => frame.op === 'view' && frame.key === customer);
    const subscribed = live.frames.length;

    const half = events.length / 2;
    for (let i = 0; i < half; i += 100) await postBatch(gatewayOne.url!, events.slice(i, i + 100));
    first.child.kill('SIGKILL');
    let token = '';
    for (let i = half; i < events.length; i += 100) token = await postBatch(gatewayOne.url!, events.slice(i, i + 100));
    // Pushed on gateway 2 what was appended through gateway 1.
    const pushed = await live.next((frame) => frame.op === 'view' && frame.key === customer, 30_000, subscribed);
    expect(pushed.value).not.toBeNull();

    const dataDir = await mkdtemp(join(tmpdir(), 'foldline-embedded-'));
    const embedded = await startService({ domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 4, logger: pino({ level: 'silent' }) });
    try {
      const embeddedToken = await postBatch(embedded.url, events);
      await expectSameViews(viewKeysOf(events), { url: gatewayTwo.url!, token }, { url: embedded.url, token: embeddedToken });
    } finally {
      await embedded.close();
      await rm(dataDir, { recursive: true, force: true });
      live.socket.close();
    }
    expect(second.child.exitCode).toBeNull();
    // Four processes start, each loading the engine: slow on a loaded machine.
  }, 180_000);
});
