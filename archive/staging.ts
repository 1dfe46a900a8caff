import { existsSync, renameSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * A rebuild writes a new state store beside the live one (in `DATA/state.rebuild/`), so that a
 * service on the same data directory goes on answering from the old state meanwhile. Once
 * complete, the rebuild marks it; the switch (at once when no service holds the directory,
 * else when `foldline start` next opens it) replaces the old store with the new. A staging
 * store without the mark is half-written: it is never switched to, and the next rebuild
 * starts it afresh.
 */

const stagingName = 'state.rebuild';
const completeMark = 'rebuilt.json';

/** The staging store's directory, beside the mark of completion. */
export function stagingPath(dataDir: string): string {
  return join(dataDir, stagingName, 'state');
}

/** Removes any earlier staging store, complete or not: a rebuild starts from nothing. */
export async function clearStaging(dataDir: string): Promise<void> {
  await rm(join(dataDir, stagingName), { recursive: true, force: true });
  await mkdir(join(dataDir, stagingName), { recursive: true });
}

/** Marks the staging store complete: written last, once the store is closed. */
export async function markStagingComplete(dataDir: string, summary: unknown): Promise<void> {
  await writeFile(join(dataDir, stagingName, completeMark), `${JSON.stringify(summary)}\n`, { flush: true });
}

/**
 * Puts a complete staging store in place of `DATA/state`; true if it did. The caller holds
 * the data directory (its ledger's lock), so no service has the store open.
 */
export function switchToRebuiltState(dataDir: string): boolean {
  const staging = join(dataDir, stagingName);
  if (!existsSync(join(staging, completeMark))) return false;
  const live = join(dataDir, 'state');
  // Moved aside, not deleted, until the new store is in place: a crash between leaves a
  // complete staging store, which the next start switches to.
  const replaced = join(dataDir, 'state.replaced');
  rmSync(replaced, { recursive: true, force: true });
  if (existsSync(live)) renameSync(live, replaced);
  renameSync(stagingPath(dataDir), live);
  rmSync(staging, { recursive: true, force: true });
  rmSync(replaced, { recursive: true, force: true });
  return true;
}

