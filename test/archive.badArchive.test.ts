import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { makeData, RecordBatch, Schema, Field, Struct, Table, tableToIPC, Utf8 } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveLedger } from '../archive/archiver.js';
import { DirStorage } from '../archive/dirStorage.js';
import { checksum, type ArchiveFormat, type Manifest } from '../archive/manifest.js';
import { rebuildFromArchive } from '../archive/rebuild.js';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { MemoryStore } from '../projections/memoryStore.js';
import { retailRouter, retailStreams } from '../retail/catalogue.js';
import { retailDomain } from '../retail/domain.js';
import { generateEvents } from '../retail/generator.js';
import { retailProjections } from '../retail/projections.js';
import { runFoldline } from './support/cliProcess.js';
import { canonicalStates, storeStates } from './support/storeContents.js';

/*
 * Each kind of bad archive fails the rebuild with one line naming the file and the line or
 * row, writes nothing that looks complete, and with --skip-bad is reported and passed over.
 */
const events = [...generateEvents({ seed: 3, events: 600 })];
let dir: string;
let data: string;
let archive: string;

async function archiveAs(format: ArchiveFormat): Promise<Manifest> {
  const ledger = await EmbeddedLedger.open({ path: join(data, 'ledger'), streams: retailStreams(2), route: retailRouter });
  await ledger.append(events);
  const { manifest } = await archiveLedger({ ledger, storage: new DirStorage(archive), format });
  await ledger.close();
  return manifest;
}

/** Replaces a segment's bytes; `listed` also puts their checksum in the manifest (the file was written bad). */
async function replaceSegment(manifest: Manifest, index: number, bytes: Uint8Array, listed: boolean): Promise<string> {
  const segment = manifest.segments[index]!;
  await writeFile(join(archive, segment.file), bytes);
  if (listed) {
    segment.sha256 = checksum(bytes);
    await writeFile(join(archive, 'manifest.json'), JSON.stringify(manifest));
  }
  return segment.file;
}

function rebuild(...flags: string[]) {
  return runFoldline(['rebuild', '--archive', archive, '--data', data, '--workers', '2', ...flags]);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foldline-bad-archive-'));
  data = join(dir, 'data');
  archive = join(dir, 'archive');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a bad archive', () => {
  it('a truncated .gz: names the file, leaves no state behind', async () => {
    const manifest = await archiveAs('ndjson');
    const whole = await readFile(join(archive, manifest.segments[0]!.file));
    const file = await replaceSegment(manifest, 0, whole.subarray(0, whole.length - 20), true);
    const run = await rebuild();
    expect(run.code).toBe(1);
    // One line (after any progress lines), naming the file.
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^foldline rebuild: .*${file.replace(/[.]/g, '\\.')}: cannot gunzip .*truncated.*--skip-bad`));
    expect(existsSync(join(data, 'state'))).toBe(false);
    expect(existsSync(join(data, 'state.rebuild', 'rebuilt.json'))).toBe(false);
  });

  it('a corrupt line: names the file and the line', async () => {
    const manifest = await archiveAs('ndjson');
    const text = gunzipSync(await readFile(join(archive, manifest.segments[1]!.file))).toString('utf8').split('\n');
    text[2] = '{"stream": "customer", "shard": 0, "seq": ';
    const file = await replaceSegment(manifest, 1, gzipSync(text.join('\n')), true);
    const run = await rebuild();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}: line 3: not JSON`);
  });

  it('a checksum that does not match the manifest: names the file', async () => {
    const manifest = await archiveAs('arrow');
    const bytes = await readFile(join(archive, manifest.segments[0]!.file));
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0xff;
    const file = await replaceSegment(manifest, 0, bytes, false);
    const run = await rebuild();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}: checksum`);
    expect(run.stderr).toContain("does not match the manifest's");
  });

  it('an Arrow file of another schema: names the file and the schema it has', async () => {
    const manifest = await archiveAs('arrow');
    const schema = new Schema([new Field('name', new Utf8(), false)]);
    const column = makeData({ type: new Utf8(), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, 3]), data: Buffer.from('abc') });
    const other = tableToIPC(new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 1, nullCount: 0, children: [column] }))]), 'file');
    const file = await replaceSegment(manifest, 0, other, true);
    const run = await rebuild();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}: an Arrow file of another schema (name: Utf8)`);
  });

  it('a Parquet file of another schema: names the file and the columns it lacks', async () => {
    const manifest = await archiveAs('parquet');
    const other = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'name', data: ['abc'], type: 'STRING' }] }));
    const file = await replaceSegment(manifest, 0, other, true);
    const run = await rebuild();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}: a Parquet file of another schema (columns name; missing stream, shard, seq`);
  });

  it('with --skip-bad: reports the bad parts and rebuilds from the rest', async () => {
    const manifest = await archiveAs('ndjson');
    const whole = await readFile(join(archive, manifest.segments[0]!.file));
    const file = await replaceSegment(manifest, 0, whole.subarray(0, 10), false);
    const run = await rebuild('--skip-bad');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`rebuild: skipped ${file}: `);
    const summary = JSON.parse(run.stdout) as { records: number; switched: boolean; bad: Array<{ file: string; reason: string }> };
    expect(summary.bad).toEqual([{ file, reason: expect.stringContaining('checksum') }]);
    expect(summary.switched).toBe(true);

    // The same as a rebuild from an archive without that segment.
    const store = new MemoryStore();
    const trimmed = { ...manifest, segments: manifest.segments.slice(1) };
    const clean = join(dir, 'clean');
    for (const segment of trimmed.segments) await new DirStorage(clean).put(segment.file, await readFile(join(archive, segment.file)));
    await writeFile(join(clean, 'manifest.json'), JSON.stringify(trimmed));
    await rebuildFromArchive({ storage: { kind: 'dir', path: clean }, topology: retailDomain.topology, projections: retailProjections, route: retailDomain.route, consumer: 'retail', store, workers: 1, threads: false });
    const rebuilt = new EmbeddedStore({ path: join(data, 'state') });
    try {
      expect(canonicalStates(await storeStates(rebuilt, retailProjections))).toEqual(canonicalStates(await storeStates(store, retailProjections)));
    } finally {
      await rebuilt.close();
    }
  });
});
