import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FoldlineError } from '../base/errors.js';

const lockName = 'foldline.lock';

/**
 * Makes this process the only owner of a data directory: an exclusively created lock file
 * holding the owner's pid. LMDB itself lets several processes share an environment, but a
 * ledger keeps its sequence counters in memory, so a second writer would reuse seqs. A
 * lock left by a process that died (kill -9) is taken over. Returns the release function.
 */
export function lockDirectory(dir: string): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    // Node's message ends with the syscall and the path, named here already.
    const reason = (error as Error).message.split(',')[0];
    throw new FoldlineError('bad_data_dir', `cannot create data directory ${dir} (${reason})`, { cause: error });
  }
  const file = join(dir, lockName);
  const owner = String(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, owner, { flag: 'wx' });
      return () => {
        if (readOwner(file) === owner) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readOwner(file);
    if (holder !== undefined && isAlive(Number(holder))) {
      throw new FoldlineError('locked', `data directory ${dir} is in use by process ${holder}`);
    }
    if (attempt > 0) throw new FoldlineError('locked', `could not take over the stale lock of data directory ${dir}`);
    rmSync(file, { force: true });
  }
}

function readOwner(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    return /^[1-9][0-9]*$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
