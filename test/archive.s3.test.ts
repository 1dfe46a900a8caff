import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveLedger } from '../archive/archiver.js';
import { rebuildFromArchive } from '../archive/rebuild.js';
import { openStorage, storageRefOf } from '../archive/storageRef.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import { retailProjections } from '../retail/projections.js';
import { freePort } from './support/ports.js';
import { canonicalStates, storeStates } from './support/storeContents.js';

/* The archive in an S3-compatible store (s3rver, started here): archived twice, rebuilt by two workers. */
let dir: string;
let server: S3rver;
let endpoint: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foldline-s3-'));
  const port = await freePort();
  server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir, configureBuckets: [{ name: 'archives', configs: [] }] });
  await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  // s3rver takes any signed request; the SDK (in the workers too) wants some credentials.
  process.env['AWS_ACCESS_KEY_ID'] = 'S3RVER';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'S3RVER';
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('an archive in S3', () => {
  it('is written incrementally and rebuilt from by worker threads', async () => {
    const events = [...generateEvents({ seed: 5, events: 2_000 })];
    const ledger = new MemoryLedger({ streams: retailStreams(4), route: retailRouter });
    const ref = storageRefOf('s3://archives/foldline/retail', { endpoint, region: 'eu-west-1' });
    expect(ref).toEqual({ kind: 's3', bucket: 'archives', prefix: 'foldline/retail/', endpoint, region: 'eu-west-1' });
    const storage = await openStorage(ref);
    await ledger.append(events.slice(0, 1_200));
    expect((await archiveLedger({ ledger, storage, format: 'arrow', segmentBytes: 32 * 1024 })).records).toBe(1_200);
    await ledger.append(events.slice(1_200));
    expect((await archiveLedger({ ledger, storage, format: 'arrow', segmentBytes: 32 * 1024 })).records).toBe(800);
    expect((await storage.list('')).filter((name) => name !== 'manifest.json').length).toBeGreaterThan(12);

    const store = new MemoryStore();
    const result = await rebuildFromArchive({ storage: ref, topology: retailDomain.topology, projections: retailProjections, route: retailDomain.route, consumer: 'retail', store, workers: 2 });
    expect(result.records).toBe(2_000);
    const live = new MemoryStore();
    await new ProjectionRuntime({ consumer: 'retail', ledger, store: live, projections: retailProjections }).catchUp();
    expect(canonicalStates(await storeStates(store, retailProjections))).toEqual(canonicalStates(await storeStates(live, retailProjections)));
    expect((await store.checkpoint('retail'))?.frontier).toEqual(await ledger.head());
  });
});
