import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type Emulator } from '../bench/emulators.js';
import type { CloudEvent } from '../ledger/types.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import type { BackendChoice } from '../service/backends.js';
import type { Projector } from '../service/projector.js';
import { startRole, type Started } from '../service/roles.js';
import { startService } from '../service/service.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { expectSameViews, postBatch, viewText } from './support/deployment.js';
import { LiveClient } from './support/liveClient.js';
import { dropRedisKeys, redisUrl, uniqueName } from './support/redis.js';
import { cartChange } from './support/retailGateway.js';

/*
 * A scaled-out deployment in one process: two projectors splitting the shards by lease and
 * two gateways, on the Redis ledger and the DynamoDB store (dynalite), the gateways told of
 * commits by Redis pub/sub. (test/scaleOut.processes.test.ts runs them as processes.)
 */
const silent = pino({ level: 'silent' });
let dynamo: Emulator;
let choice: BackendChoice;
const started: Started[] = [];

/** The first event of the deployment, which the embedded service gets too. */
const first = cartChange('added', 'c-scale', 'sku-1', 2);
const roleOptions = { domain: retailDomain, host: '127.0.0.1', port: 0, shards: 4, logger: silent, failoverMs: 600 };

beforeAll(async () => {
  dynamo = await startDynalite();
  choice = { ledger: 'redis', store: 'dynamodb', redisUrl, dynamodbEndpoint: dynamo.endpoint, region: 'us-east-1', name: uniqueName('roles'), create: true };
});
afterAll(async () => {
  for (const part of started.reverse()) await part.close();
  await dynamo.close();
  await dropRedisKeys(choice.name);
});

async function start(role: 'projector' | 'gateway'): Promise<Started> {
  const part = await startRole({ ...roleOptions, role, choice });
  started.push(part);
  return part;
}

describe('projectors and gateways of one deployment', () => {
  it('fold anywhere and push everywhere: a token of one gateway is honoured by the other', async () => {
    const [one, two] = [(await start('projector')) as unknown as Projector, (await start('projector')) as unknown as Projector];
    const [gatewayOne, gatewayTwo] = [await start('gateway'), await start('gateway')];
    // The shards end up split between the two projectors.
    const split = (): boolean => one.held().size > 0 && two.held().size > 0 && one.held().size + two.held().size === 12;
    for (let tries = 0; tries < 100 && !split(); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(one.held().size + two.held().size).toBe(12);
    expect(one.held().size).toBeGreaterThan(0);
    expect(two.held().size).toBeGreaterThan(0);

    const live = await LiveClient.open(`${gatewayTwo.url!.replace('http', 'ws')}/v1/live`);
    live.send({ op: 'subscribe', ref: 1, view: 'cart', key: 'c-scale' });
    await live.next((frame) => frame.op === 'view' && frame.key === 'c-scale');
    // The event's own trace (the CloudEvents tracing extension) crosses to the other gateway's push.
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const token = await postBatch(gatewayOne.url!, [{ ...first, traceparent }]);
    const pushed = await live.next((frame) => frame.op === 'view' && frame.key === 'c-scale' && JSON.stringify(frame.value).includes('"quantity":2'));
    expect(pushed.value).toMatchObject({ itemCount: 2 });
    expect(pushed.traceparent).toBe(traceparent);
    expect(await viewText(gatewayTwo.url!, 'cart', 'c-scale', token)).toContain('"quantity":2');
    live.socket.close();
  });

  it('serve the views an embedded service serves for the same history', async () => {
    const events: CloudEvent[] = [...generateEvents({ seed: 19, events: 1500 })];
    const gateways = started.filter((part) => part.url !== undefined);
    const token = await postBatch(gateways[0]!.url!, events);
    const dataDir = await mkdtemp(join(tmpdir(), 'foldline-embedded-'));
    const embedded = await startService({ ...roleOptions, dataDir });
    try {
      await postBatch(embedded.url, [first]);
      const embeddedToken = await postBatch(embedded.url, events);
      await expectSameViews(viewKeysOf(events), { url: gateways[1]!.url!, token }, { url: embedded.url, token: embeddedToken });
    } finally {
      await embedded.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
