import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { missingServiceFlags, serviceNodeFlags } from '../cli/heapFlags.js';

/* The service's V8 flags are spelled where node is started, which cannot import them. */

const read = (path: string): Promise<string> => readFile(new URL(`../${path}`, import.meta.url), 'utf8');

describe('the service’s V8 flags', () => {
  it('are named missing until given', () => {
    expect(missingServiceFlags([])).toEqual([...serviceNodeFlags]);
    expect(missingServiceFlags(['--import', 'tsx', ...serviceNodeFlags])).toEqual([]);
  });

  it('are given by npm start, npm run bench and the foldline command', async () => {
    const { scripts } = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    const shebang = (await read('bin/foldline.js')).split('\n')[0]!;
    for (const commandLine of [scripts['start']!, scripts['bench']!, shebang]) {
      expect(missingServiceFlags(commandLine.split(/\s+/))).toEqual([]);
    }
  });
});
