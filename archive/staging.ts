import { existsSync, renameSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareSeq, frontier, parsePositionKey, type Frontier } from '../crdt/index.js';
import type { ProjectionDefinition } from '../projections/types.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';

/*
 * A rebuild writes a new state store beside the live one (in `DATA/state.rebuild/`), so that a
 * service on the same data directory goes on answering from the old state meanwhile. Once
 * complete, the rebuild marks it; the switch (at once when no service holds the directory,
 * else when `foldline start` next opens it) replaces the old store with the new, or, for a
 * rebuild of some projections, only their states. A staging store without the mark is
 * half-written: it is never switched to, and the next rebuild starts it afresh.
 */

const stagingName = 'state.rebuild';
const completeMark = 'rebuilt.json';

/** What the mark of completion says of the rebuilt store. */
export interface RebuiltSummary {
  consumer: string;
  checkpoint: Frontier | undefined;
  /** When not all were rebuilt: the projections rebuilt (the others stay as the live store holds them), and the streams they read. */
  some?: { projections: readonly string[]; streams: readonly string[] } | undefined;
}

/** The staging store's directory, beside the mark of completion. */
export function stagingPath(dataDir: string): string {
  return join(dataDir, stagingName, 'state');
}

/** Removes any earlier staging store, complete or not: a rebuild starts from nothing. */
export async function clearStaging(dataDir: string): Promise<void> {
  await rm(join(dataDir, stagingName), { recursive: true, force: true });
  await mkdir(join(dataDir, stagingName), { recursive: true });
}

/** What the mark says of a rebuild of `projections`, when they are some of the consumer's only. */
export function someRebuilt(projections: readonly ProjectionDefinition[], all: readonly ProjectionDefinition[]): RebuiltSummary['some'] {
  if (projections.length === all.length) return undefined;
  return { projections: projections.map((definition) => definition.name), streams: [...new Set(projections.flatMap((definition) => definition.streams))] };
}

/** Whether a complete staging store waits to be switched to. */
export function stagingComplete(dataDir: string): boolean {
  return existsSync(join(dataDir, stagingName, completeMark));
}

/** Marks the staging store complete: written last, once the store is closed. */
export async function markStagingComplete(dataDir: string, summary: RebuiltSummary): Promise<void> {
  await writeFile(join(dataDir, stagingName, completeMark), `${JSON.stringify(summary)}\n`, { flush: true });
}

/**
 * Puts a complete staging store in place of `DATA/state` (or its projections' states in
 * place of theirs); true if it did. The caller holds the data directory (its ledger's lock),
 * so no service has the store open.
 */
export async function switchToRebuiltState(dataDir: string): Promise<boolean> {
  if (!stagingComplete(dataDir)) return false;
  const staging = join(dataDir, stagingName);
  const summary = JSON.parse(await readFile(join(staging, completeMark), 'utf8')) as RebuiltSummary;
  if (summary.some) await adoptRebuiltProjections(dataDir, summary.consumer, summary.some);
  else replaceStore(dataDir);
  rmSync(staging, { recursive: true, force: true });
  return true;
}

function replaceStore(dataDir: string): void {
  const live = join(dataDir, 'state');
  // Moved aside, not deleted, until the new store is in place: a crash between leaves a
  // complete staging store, which the next start switches to.
  const replaced = join(dataDir, 'state.replaced');
  rmSync(replaced, { recursive: true, force: true });
  if (existsSync(live)) renameSync(live, replaced);
  renameSync(stagingPath(dataDir), live);
  rmSync(replaced, { recursive: true, force: true });
}

/**
 * The rebuilt projections' states and dead letters replace the live store's, which keeps the
 * others'. The runtime then folds again from where both stores reach on the streams the
 * rebuilt projections read (the others' positions stay), and each entity skips the records
 * its own frontier holds: the rebuilt projections catch up with the others, or these with
 * them, and nothing is folded twice. The ledger refuses a repeated event at append, so the
 * checkpoint keeps no id window. A crash midway leaves the mark: the next start runs it
 * again, to the same end.
 */
async function adoptRebuiltProjections(dataDir: string, consumer: string, some: NonNullable<RebuiltSummary['some']>): Promise<void> {
  const live = new EmbeddedStore({ path: join(dataDir, 'state') });
  try {
    const rebuilt = new EmbeddedStore({ path: stagingPath(dataDir) });
    try {
      const ours = await live.checkpoint(consumer);
      const theirs = (await rebuilt.checkpoint(consumer))?.frontier ?? frontier();
      const from = foldAgainFrom(ours?.frontier ?? frontier(), theirs, new Set(some.streams));
      // The live store's projections and the rebuilt ones: one still missing is refused at start.
      const projections = ours?.projections && [...new Set([...ours.projections, ...some.projections])];
      await live.adoptProjections(rebuilt, consumer, some.projections, { frontier: from, recentIds: [], ...(projections ? { projections } : {}) });
    } finally {
      await rebuilt.close();
    }
  } finally {
    await live.close();
  }
}

/**
 * The live checkpoint, lowered on the rebuilt streams to what the rebuilt checkpoint reflects
 * too (a position it lacks is folded again from the start).
 */
function foldAgainFrom(ours: Frontier, theirs: Frontier, rebuiltStreams: ReadonlySet<string>): Frontier {
  const from = frontier();
  for (const [position, seq] of Object.entries(ours)) {
    const rebuilt = theirs[position];
    if (!rebuiltStreams.has(parsePositionKey(position).stream)) from[position] = seq;
    else if (rebuilt !== undefined) from[position] = compareSeq(seq, rebuilt) <= 0 ? seq : rebuilt;
  }
  return from;
}
