import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import type { CloudEvent } from '../ledger/types.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import type { Domain } from '../service/domain.js';
import { viewKeysOf } from './retail/viewKeys.js';
import { runFoldline } from './support/cliProcess.js';
import { projections as projectionsBefore } from './support/retailTopologyBefore.js';
import { appendInBatches, expectViewsAsIfAllLive, startOn } from './support/servedViews.js';

/*
 * A projection added to a domain whose store has folded events already (here retail's
 * product views, which product pages count): the service refuses to start rather than fold
 * it from the middle of the history, and after `foldline rebuild --projection` it starts,
 * and its views equal those of a service that had the projection all along.
 */
const events: CloudEvent[] = [...generateEvents({ seed: 21, events: 2_400 })];
const [before, after] = [events.slice(0, 1_600), events.slice(1_600)];
const keys = viewKeysOf(events).filter(([view], i) => view === 'product' || i % 5 === 0);
const domainBefore: Domain = { ...retailDomain, topology: new URL('./support/retailTopologyBefore.ts', import.meta.url).href, projections: projectionsBefore };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foldline-new-projection-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a projection new to a store that has folded events already', () => {
  it('is refused at start until rebuilt from the archive; then the views equal a service that had it all along', async () => {
    const data = join(dir, 'data');
    const service = await startOn(data, domainBefore);
    await appendInBatches(service, before);
    await service.runtime.catchUp();
    await service.close();

    const refused = await startOn(data).then(
      (started) => started.close().then(() => undefined),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(FoldlineError);
    expect((refused as FoldlineError).code).toBe('new_projection');
    expect((refused as FoldlineError).message).toContain('projection "productViews" is new to consumer "retail-views"');
    const cli = await runFoldline(['start', '--data', data, '--port', '0']);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toContain('foldline rebuild --projection NAME');

    const archive = join(dir, 'archive');
    expect((await runFoldline(['archive', '--data', data, '--out', archive])).code).toBe(0);
    const rebuilt = await runFoldline(['rebuild', '--archive', archive, '--data', data, '--projection', 'productViews', '--then-live']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ projections: ['productViews'], switched: true });
    expect(existsSync(join(data, 'state.rebuild'))).toBe(false);

    await expectViewsAsIfAllLive(await startOn(data), after, events, join(dir, 'reference'), keys);
  });
});
