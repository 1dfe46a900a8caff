import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/** msgpackr's native acceleration as seen by a fresh process that imports `first` before msgpackr. */
function nativeAcceleration(first: string): string {
  const script = `${first}\nconst { isNativeAccelerationEnabled } = await import('msgpackr');\nprocess.stdout.write(String(isNativeAccelerationEnabled));`;
  const env = { ...process.env };
  delete env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'];
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
}

describe('entry points', () => {
  it('turn msgpackr\'s native string extraction off before msgpackr loads (folded states keep flat strings, not slices of whole blocks)', () => {
    expect(nativeAcceleration("await import('./cli/flatStrings.ts');")).toBe('false');
  });

  it('import the switch first, in the CLI and in the benches', async () => {
    for (const [entry, module] of [['cli/main.ts', './flatStrings.js'], ['bench/run.ts', '../cli/flatStrings.js']] as const) {
      const firstImport = /^import\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/m.exec(await readFile(entry, 'utf8'));
      expect(firstImport?.[1], entry).toBe(module);
    }
  });
});
