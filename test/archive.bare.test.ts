import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rebuildFromArchive } from '../archive/rebuild.js';
import type { CloudEvent } from '../ledger/types.js';
import { MemoryLedger } from '../ledger/memoryLedger.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import { retailProjections } from '../retail/projections.js';
import { canonicalStates, storeStates } from './support/storeContents.js';

/*
 * A bare export (NDJSON, NDJSON.gz and Parquet files of plain CloudEvents, duplicates and all) rebuilds the states a
 * ledger of the same events, each once, folds live: shards by the subject's hash, order by
 * file name then line, each (source, id) once.
 */
const events = [...generateEvents({ seed: 9, events: 3_000 })];
/** Every 7th event delivered again, some in a later file. */
const delivered: CloudEvent[] = events.flatMap((event, i) => (i % 7 === 0 ? [event, events[Math.max(0, i - 40)]!] : [event]));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foldline-bare-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Three files of an export: gzip'd NDJSON, NDJSON, Parquet (its `data` as JSON text). */
async function writeExport(lines: string[][]): Promise<string> {
  const root = join(dir, 'export');
  await mkdir(join(root, 'day=2'), { recursive: true });
  await writeFile(join(root, 'day=1.ndjson.gz'), gzipSync(lines[0]!.join('\n')));
  await writeFile(join(root, 'day=2/part-0.jsonl'), `${lines[1]!.join('\n')}\n`);
  const rows = lines[2]!.map((line) => JSON.parse(line) as CloudEvent);
  const column = (name: string) => ({ name, data: rows.map((row) => (name === 'data' ? JSON.stringify(row.data) : String(row[name]))), type: 'STRING' as const });
  await writeFile(join(root, 'day=2/part-1.parquet'), new Uint8Array(parquetWriteBuffer({ columnData: ['specversion', 'id', 'source', 'type', 'time', 'subject', 'data'].map(column) })));
  return root;
}

describe('a bare export', () => {
  it('rebuilds the states of the same events folded live, each once, with any number of workers', async () => {
    const texts = delivered.map((event) => JSON.stringify(event));
    const third = Math.ceil(texts.length / 3);
    const root = await writeExport([texts.slice(0, third), texts.slice(third, 2 * third), texts.slice(2 * third)]);

    const ledger = new MemoryLedger({ streams: retailStreams(4), route: retailRouter });
    await ledger.append(delivered);
    const live = new MemoryStore();
    await new ProjectionRuntime({ consumer: 'retail', ledger, store: live, projections: retailProjections }).catchUp();
    const expected = canonicalStates(await storeStates(live, retailProjections));

    for (const [workers, threads] of [[1, false], [3, false], [2, true]] as const) {
      const store = new MemoryStore();
      const result = await rebuildFromArchive({ storage: { kind: 'dir', path: root }, topology: retailDomain.topology, projections: retailProjections, route: retailDomain.route, consumer: 'retail', store, workers, threads, bareShards: 4 });
      expect(result).toMatchObject({ bare: true, records: events.length, checkpoint: {}, bad: [] });
      expect(canonicalStates(await storeStates(store, retailProjections))).toEqual(expected);
    }
  });

  it('names the file and line of a corrupt line; with skip-bad, reports it and folds the rest', async () => {
    const texts = events.slice(0, 300).map((event) => JSON.stringify(event));
    texts.splice(10, 0, '{"specversion":"1.0","id":');
    const root = await writeExport([texts.slice(0, 100), texts.slice(100, 200), texts.slice(200)]);
    const options = { storage: { kind: 'dir', path: root } as const, topology: retailDomain.topology, projections: retailProjections, route: retailDomain.route, consumer: 'retail', workers: 2, bareShards: 4 };
    await expect(rebuildFromArchive({ ...options, store: new MemoryStore() })).rejects.toThrow(`${root}/day=1.ndjson.gz: line 11: not JSON`);
    const result = await rebuildFromArchive({ ...options, store: new MemoryStore(), skipBad: true });
    expect(result.records).toBe(300);
    expect(result.bad).toEqual([{ file: 'day=1.ndjson.gz', reason: expect.stringContaining('day=1.ndjson.gz: line 11: not JSON') }]);
  });

  it('refuses an event the domain refuses, naming the file, the line and the field; with skip-bad, folds what the ledger would have taken', async () => {
    const valid = events.slice(0, 300);
    const cart = valid.find((event) => event.type === 'retail.cart.item-added')!;
    const refused = { ...cart, id: 'refused-1', data: { ...(cart.data as object), quantity: -3 } };
    const texts = valid.map((event) => JSON.stringify(event));
    texts.splice(150, 0, JSON.stringify(refused));
    const root = await writeExport([texts.slice(0, 100), texts.slice(100, 200), texts.slice(200)]);
    const options = { storage: { kind: 'dir', path: root } as const, topology: retailDomain.topology, projections: retailProjections, route: retailDomain.route, consumer: 'retail', bareShards: 4 };
    for (const [workers, threads] of [[2, true], [1, false]] as const) {
      await expect(rebuildFromArchive({ ...options, workers, threads, store: new MemoryStore() })).rejects.toThrow(new RegExp(`${root}/day=2/part-0\\.jsonl: line 51: the domain refuses the event: .*quantity`));
    }
    const store = new MemoryStore();
    const result = await rebuildFromArchive({ ...options, workers: 2, store, skipBad: true });
    expect(result.bad).toEqual([{ file: 'day=2/part-0.jsonl', reason: expect.stringContaining('line 51: the domain refuses the event') }]);

    const ledger = new MemoryLedger({ streams: retailStreams(4), route: retailRouter });
    await ledger.append(valid);
    const live = new MemoryStore();
    await new ProjectionRuntime({ consumer: 'retail', ledger, store: live, projections: retailProjections }).catchUp();
    expect(canonicalStates(await storeStates(store, retailProjections))).toEqual(canonicalStates(await storeStates(live, retailProjections)));
  });
});
