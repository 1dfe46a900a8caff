import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { forEachLine } from '../archive/textLines.js';

/** Every line forEachLine visits, with its number. */
async function linesOf(bytes: Uint8Array, gzipped: boolean): Promise<Array<[number, string]>> {
  const lines: Array<[number, string]> = [];
  await forEachLine(bytes, gzipped, 'where', (text, start, stop, line) => lines.push([line, text.slice(start, stop)]));
  return lines;
}

describe('forEachLine', () => {
  // Long enough to span several decoded chunks, with multi-byte characters across their edges.
  const lines = Array.from({ length: 40_000 }, (_, i) => (i % 7 === 3 ? '' : `{"n":${i},"text":"${'é€😀'.repeat(i % 5)}"}`));
  const text = `${lines.join('\n')}\n{"last":"no newline after it"}`;
  const expected = [...lines, '{"last":"no newline after it"}'].map((line, i): [number, string] => [i + 1, line]).filter(([, line]) => line !== '');

  it('visits the non-empty lines of plain and gzip’d text, numbered from 1', async () => {
    expect(await linesOf(Buffer.from(text), false)).toEqual(expected);
    expect(await linesOf(gzipSync(text), true)).toEqual(expected);
  });

  it('a truncated gzip: the lines before the damage, then an error naming the file', async () => {
    const gzipped = gzipSync(text);
    const seen: string[] = [];
    await expect(forEachLine(gzipped.subarray(0, gzipped.length - 20), true, 'export/part-1.ndjson.gz', (t, start, stop) => seen.push(t.slice(start, stop)))).rejects.toThrow(
      /^export\/part-1\.ndjson\.gz: cannot gunzip .*truncated/,
    );
    expect(seen).toEqual(expected.slice(0, seen.length).map(([, line]) => line));
  });
});
