import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The import rules of `npm run check:layers` (.dependency-cruiser.cjs) refuse a back-edge:
 * the checker runs on small trees laid out as ours, with and without one.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
let tree: string;

async function files(entries: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(entries)) {
    await mkdir(dirname(join(tree, path)), { recursive: true });
    await writeFile(join(tree, path), text);
  }
}

function check(...folders: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(depcruise, ['--config', join(root, '.dependency-cruiser.cjs'), ...folders], { cwd: tree }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

/** The check of the whole tree with one more file in it. */
async function checkWith(path: string, text: string): Promise<{ code: number; output: string }> {
  await files({ [path]: text });
  try {
    return await check('crdt', 'gateway', 'service', 'retail');
  } finally {
    await rm(join(tree, path));
  }
}

beforeAll(async () => {
  tree = await mkdtemp(join(tmpdir(), 'foldline-layers-'));
  await copyFile(join(root, 'tsconfig.json'), join(tree, 'tsconfig.json'));
  await files({
    'crdt/algebra.ts': 'export const one = 1;\n',
    'gateway/server.ts': "import { one } from '../crdt/algebra.js';\nexport const serve = (): number => one;\n",
    'service/domain.ts': 'export interface Domain { name: string }\n',
    'service/service.ts': "import { serve } from '../gateway/server.js';\nexport const start = (): number => serve();\n",
    'retail/domain.ts': "import type { Domain } from '../service/domain.js';\nexport const domain: Domain = { name: 'retail' };\n",
  });
}, 30_000);

afterAll(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('the import-rule check', () => {
  it('passes imports that point down, and a domain importing only the engine’s types', async () => {
    const { code, output } = await check('crdt', 'gateway', 'service', 'retail');
    expect([code, output]).toEqual([0, expect.stringContaining('no dependency violations')]);
  });

  it('fails on a back-edge, naming the rule and the import', async () => {
    const { code, output } = await checkWith('crdt/backEdge.ts', "import { serve } from '../gateway/server.js';\nexport const two = serve() + 1;\n");
    expect(code).not.toBe(0);
    expect(output).toContain('crdt-imports-only-below: crdt/backEdge.ts → gateway/server.ts');
  });

  it('fails on a domain importing the engine’s code rather than its types', async () => {
    const { code, output } = await checkWith('retail/starts.ts', "import { start } from '../service/service.js';\nexport const started = start();\n");
    expect(code).not.toBe(0);
    expect(output).toContain('retail-imports-engine-definitions-only: retail/starts.ts → service/service.ts');
  });
});
