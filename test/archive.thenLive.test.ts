import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import type { CloudEvent } from '../ledger/types.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { retailDomain } from '../retail/domain.js';
import type { ProductState } from '../retail/projections.js';
import { generateEvents } from '../retail/generator.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { runFoldline } from './support/cliProcess.js';
import { appendInBatches, expectViewsAsIfAllLive, servedViews, startOn } from './support/servedViews.js';

/*
 * A rebuild with --then-live, run while a service serves the same data directory: the
 * service goes on answering, switches at its restart, and after more live events its views
 * equal those of a service that saw every event live.
 */
const events: CloudEvent[] = [...generateEvents({ seed: 11, events: 3_000 })];
const [archived, betweenRuns, afterRebuild] = [events.slice(0, 1_500), events.slice(1_500, 2_200), events.slice(2_200)];
const keys = viewKeysOf(events).filter((_, i) => i % 5 === 0);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foldline-then-live-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A data directory whose ledger holds the archived part, and its archive. */
async function archivedDataDir(): Promise<{ data: string; archive: string }> {
  const data = join(dir, 'data');
  const archive = join(dir, 'archive');
  const ledger = await EmbeddedLedger.open({ path: join(data, 'ledger'), streams: retailStreams(4), route: retailRouter });
  await ledger.append(archived);
  await ledger.close();
  expect((await runFoldline(['archive', '--data', data, '--out', archive])).code).toBe(0);
  return { data, archive };
}

describe('rebuild --then-live', () => {
  it('while a service serves the data directory: it switches at restart, and its views equal a service that saw everything live', async () => {
    const { data, archive } = await archivedDataDir();
    let service = await startOn(data);
    await appendInBatches(service, betweenRuns);
    const servedBefore = await servedViews(service, keys);
    const liveHead = await service.ledger.head();
    const rebuilt = await runFoldline(['rebuild', '--archive', archive, '--data', data, '--workers', '2', '--then-live']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    // The archive's records, then the live ledger's up to its head: the checkpoint is there.
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ records: archived.length, switched: false, checkpoint: liveHead });
    expect(rebuilt.stderr).toContain('restart it to switch to the rebuilt state');
    // Still serving from the old state meanwhile.
    expect(await servedViews(service, keys)).toEqual(servedBefore);
    // Another rebuild meanwhile would throw away the one waiting: refused.
    const again = await runFoldline(['rebuild', '--archive', archive, '--data', data, '--projection', 'product']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`foldline rebuild: ${data} holds an earlier rebuild that waits for the service there to restart; restart that service (SIGTERM, then foldline start) so that it switches to it, then rebuild again`);
    await service.close();

    service = await startOn(data);
    expect(existsSync(join(data, 'state.rebuild'))).toBe(false);
    await expectViewsAsIfAllLive(service, afterRebuild, events, join(dir, 'reference'), keys);
  });
});

describe('rebuild --projection', () => {
  it("replaces only that projection's states (here spoiled in the store), and the views then equal a service that saw everything live", async () => {
    const { data, archive } = await archivedDataDir();
    let service = await startOn(data);
    await appendInBatches(service, betweenRuns);
    await service.close();
    // Every product marked discontinued, as a bug in its fold might have left them: only a rebuild of it mends them.
    const spoiled = new EmbeddedStore({ path: join(data, 'state') });
    const entities = [];
    for await (const key of spoiled.keys('product')) {
      const record = (await spoiled.get<ProductState>('product', key))!;
      entities.push({ namespace: 'product', key, record: { ...record, state: { ...record.state, discontinued: true } } });
    }
    const checkpoint = (await spoiled.checkpoint(retailDomain.consumer))!;
    await spoiled.commit({ consumer: retailDomain.consumer, entities, checkpoint, deadLetters: [] });
    await spoiled.close();
    expect(entities.length).toBeGreaterThan(0);

    const rebuilt = await runFoldline(['rebuild', '--archive', archive, '--data', data, '--projection', 'product', '--then-live']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ records: archived.length, projections: ['product'], switched: true });
    expect(existsSync(join(data, 'state.rebuild'))).toBe(false);

    await expectViewsAsIfAllLive(await startOn(data), afterRebuild, events, join(dir, 'reference'), keys);
  });

  it('refuses a projection the domain does not have, or a bare export, in one line, leaving nothing behind', async () => {
    const { data, archive } = await archivedDataDir();
    const unknown = await runFoldline(['rebuild', '--archive', archive, '--data', data, '--projection', 'product', '--projection', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('foldline rebuild: --projection: the retail domain has no projection "nope"; its projections are ' + retailDomain.projections.map((d) => d.name).join(', '));
    const bare = join(dir, 'bare');
    await mkdir(bare);
    await writeFile(join(bare, 'part-0.ndjson'), `${archived.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const fromBare = await runFoldline(['rebuild', '--archive', bare, '--data', data, '--projection', 'product']);
    expect(fromBare.code).toBe(2);
    expect(fromBare.stderr.trim().split('\n')).toHaveLength(1);
    expect(fromBare.stderr).toContain('--projection: ');
    expect(fromBare.stderr).toContain('holds no manifest');
    expect(existsSync(join(data, 'state.rebuild'))).toBe(false);
  });
});
