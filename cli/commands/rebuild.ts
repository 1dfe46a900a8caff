import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { attachLive } from '../../archive/attachLive.js';
import { rebuildFromArchive, type RebuildResult } from '../../archive/rebuild.js';
import { clearStaging, markStagingComplete, someRebuilt, stagingComplete, stagingPath, switchToRebuiltState } from '../../archive/staging.js';
import { openStorage, storageRefOf } from '../../archive/storageRef.js';
import { readManifest } from '../../archive/archiver.js';
import { FoldlineError } from '../../base/errors.js';
import type { Frontier } from '../../crdt/index.js';
import { lockDirectory } from '../../ledger/dirLock.js';
import { EmbeddedLedger } from '../../ledger/embeddedLedger.js';
import { EmbeddedStore } from '../../projections/embeddedStore.js';
import type { ProjectionDefinition } from '../../projections/types.js';
import type { Domain } from '../../service/domain.js';
import { domainOption, loadDomain } from '../domainOption.js';
import { progressOf, type Progress } from '../progress.js';
import { s3Flags } from '../s3Flags.js';
import { integerOption } from './start.js';

interface RebuildFlags {
  archive: string;
  data: string;
  workers: number;
  consumer?: string;
  projection?: string[];
  thenLive?: boolean;
  skipBad?: boolean;
  s3Endpoint?: string;
  region?: string;
  domain?: string;
}

/** `foldline rebuild`: a consumer's state rebuilt from an archive in parallel, then attached to the live ledger. */
export function rebuildCommand(): Command {
  return new Command('rebuild')
    .description("rebuild a consumer's entity states from an archive with worker threads, optionally going on from the live ledger")
    .requiredOption('--archive <src>', 'archive directory or s3://bucket/prefix (as `foldline archive` writes it)')
    .option('--s3-endpoint <url>', 'URL of an S3-compatible store (path-style requests); default: AWS')
    .option('--region <region>', 'S3 region (default: AWS_REGION, else us-east-1)')
    .requiredOption('--data <dir>', 'data directory whose state is rebuilt (it may be served meanwhile)')
    .option('--workers <n>', 'worker threads folding shards in parallel', integerOption('--workers', 1, 64), 2)
    .option('--consumer <name>', "the consumer to rebuild (default: the domain's)")
    .option('--projection <name>', "rebuild only this projection, the others staying as they are (repeatable; default: all the consumer's)", (name: string, names: string[] | undefined) => [...(names ?? []), name])
    .option('--then-live', "then fold what the data directory's ledger holds past the archive's end")
    .option('--skip-bad', 'report a bad segment and go on, rather than stop')
    .addOption(domainOption())
    .addHelpText(
      'after',
      '\nThe new state is written beside the live one (DATA/state.rebuild) and marked complete at the end. With no' +
        "\nservice on the data directory it replaces DATA/state at once; otherwise `foldline start` switches to it when" +
        '\nit next starts (docs/operations.md), and folds the ledger on from the rebuilt checkpoint. With --projection,' +
        '\nthe switch replaces only those projections\' states, and the ledger is folded again from where both states reach.',
    )
    .action(async (options: RebuildFlags) => {
      const domain = await loadDomain(options.domain);
      const consumer = options.consumer ?? domain.consumer;
      if (consumer !== domain.consumer) {
        throw new FoldlineError('bad_option', `the ${domain.name} domain has no consumer ${JSON.stringify(consumer)}; its consumer is ${JSON.stringify(domain.consumer)}`);
      }
      const projections = chosenProjections(domain, options.projection ?? []);
      const some = someRebuilt(projections, domain.projections);
      const ledgerPath = join(options.data, 'ledger');
      if (options.thenLive && !existsSync(ledgerPath)) throw new FoldlineError('no_data_dir', `--then-live: no ledger at ${options.data}`);
      const storage = storageRefOf(options.archive, s3Flags(options));
      const bare = !(await readManifest(await openStorage(storage)));
      if (options.thenLive && bare) {
        throw new FoldlineError('bad_option', `--then-live: ${options.archive} holds no manifest (a bare export, or no archive): no ledger positions to go on from`);
      }
      if (some && bare) {
        throw new FoldlineError('bad_option', `--projection: ${options.archive} holds no manifest (a bare export, or no archive): without ledger positions, some projections cannot join the others`);
      }
      // An earlier rebuild not switched to yet is not thrown away: switched to now, or this one refused.
      if (stagingComplete(options.data) && !(await switchIfFree(options.data))) {
        throw new FoldlineError('rebuild_pending', `${options.data} holds an earlier rebuild that waits for the service there to restart`);
      }
      await clearStaging(options.data);
      const store = new EmbeddedStore({ path: stagingPath(options.data) });
      let progress: Progress | undefined;
      let result: RebuildResult;
      let checkpoint: Frontier | undefined;
      try {
        result = await rebuildFromArchive({
          storage,
          topology: domain.topology,
          projections,
          route: domain.route,
          bareShards: await ledgerShards(ledgerPath, domain),
          consumer,
          store,
          workers: options.workers,
          skipBad: options.skipBad ?? false,
          onProgress: (done, total) => (progress ??= progressOf('rebuild', total)).update(done),
        });
        progress?.stop();
        for (const bad of result.bad) process.stderr.write(`rebuild: skipped ${bad.file}: ${bad.reason}\n`);
        if (options.thenLive) {
          const ledger = await EmbeddedLedger.openReader({ path: ledgerPath, route: domain.route });
          try {
            await attachLive({ ledger, store, projections, consumer, idWindow: 0 });
          } finally {
            await ledger.close();
          }
        }
        checkpoint = (await store.checkpoint(consumer))?.frontier;
      } finally {
        await store.close();
      }
      await markStagingComplete(options.data, { consumer, checkpoint, some });
      const switched = await switchIfFree(options.data);
      process.stdout.write(`${JSON.stringify({ records: result.records, entities: result.entities, checkpoint, ...(some ? { projections: some.projections } : {}), bad: result.bad, switched })}\n`);
      if (!switched) process.stderr.write(`rebuild: a service holds ${options.data}; restart it to switch to the rebuilt state\n`);
    });
}

/** The domain's projections `--projection` names (all when it names none); an unknown name is refused. */
function chosenProjections(domain: Domain, names: readonly string[]): readonly ProjectionDefinition[] {
  if (names.length === 0) return domain.projections;
  const known = domain.projections.map((definition) => definition.name);
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) throw new FoldlineError('bad_option', `--projection: the ${domain.name} domain has no projection ${JSON.stringify(unknown)}; its projections are ${known.join(', ')}`);
  return domain.projections.filter((definition) => names.includes(definition.name));
}

/** Shards per stream of the data directory's ledger (a bare export is hashed the same way), else the default 4. */
async function ledgerShards(path: string, domain: Domain): Promise<number> {
  if (!existsSync(path)) return 4;
  const ledger = await EmbeddedLedger.openReader({ path, route: domain.route });
  try {
    return ledger.streams[0]?.shards ?? 4;
  } finally {
    await ledger.close();
  }
}

/** Switches now when no service holds the data directory (its ledger's lock), else leaves it to the next start. */
async function switchIfFree(dataDir: string): Promise<boolean> {
  const ledgerPath = join(dataDir, 'ledger');
  if (!existsSync(ledgerPath)) return await switchToRebuiltState(dataDir);
  let release: () => void;
  try {
    release = lockDirectory(ledgerPath);
  } catch (error) {
    if (error instanceof FoldlineError && error.code === 'locked') return false;
    throw error;
  }
  try {
    return await switchToRebuiltState(dataDir);
  } finally {
    release();
  }
}
