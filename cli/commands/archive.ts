import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { archiveLedger } from '../../archive/archiver.js';
import { archiveFormats, type ArchiveFormat } from '../../archive/manifest.js';
import { openStorage, storageRefOf } from '../../archive/storageRef.js';
import { FoldlineError } from '../../base/errors.js';
import { EmbeddedLedger } from '../../ledger/embeddedLedger.js';
import { domainOption, loadDomain } from '../domainOption.js';
import { progressOf, type Progress } from '../progress.js';
import { s3Flags } from '../s3Flags.js';
import { integerOption } from './start.js';

/** `foldline archive`: the ledger of a data directory copied to an archive, incrementally. */
export function archiveCommand(): Command {
  return new Command('archive')
    .description('copy the ledger of a data directory to an archive (a directory or S3); a later run adds only what is new')
    .requiredOption('--data <dir>', 'data directory whose ledger is archived (it may be served meanwhile)')
    .requiredOption('--out <dest>', 'archive directory (created if missing), or s3://bucket/prefix')
    .option('--s3-endpoint <url>', 'URL of an S3-compatible store (path-style requests); default: AWS')
    .option('--region <region>', 'S3 region (default: AWS_REGION, else us-east-1)')
    .addOption(new Option('--format <format>', 'segment format of this run').choices(archiveFormats).default('arrow'))
    .option('--segment-mib <n>', 'segment size (MiB of event JSON) at which a new segment starts', integerOption('--segment-mib', 1, 4096), 32)
    .addOption(domainOption())
    .addHelpText(
      'after',
      '\nThe archive holds segments (Arrow IPC by default, or gzip\'d NDJSON) per stream and shard, listed in manifest.json' +
        '\nwith their first and last seq, count and SHA-256. The manifest is written last: a run that stops half-way' +
        '\nleaves nothing that looks complete, and the next run ships what the manifest does not cover.',
    )
    .action(async (options: { data: string; out: string; format: ArchiveFormat; segmentMib: number; s3Endpoint?: string; region?: string; domain?: string }) => {
      const domain = await loadDomain(options.domain);
      const path = join(options.data, 'ledger');
      if (!existsSync(path)) throw new FoldlineError('no_data_dir', `no data directory with a ledger at ${options.data}`);
      // A reader: it takes no lock, so a service may go on appending; it archives what was durable when opened.
      const ledger = await EmbeddedLedger.openReader({ path, route: domain.route });
      try {
        let progress: Progress | undefined;
        const result = await archiveLedger({
          ledger,
          storage: await openStorage(storageRefOf(options.out, s3Flags(options))),
          format: options.format,
          segmentBytes: options.segmentMib * 2 ** 20,
          onProgress: (done, estimate) => (progress ??= progressOf('archive', estimate)).update(done),
        });
        progress?.stop();
        process.stdout.write(`${JSON.stringify({ records: result.records, segments: result.segments.length, totalSegments: result.manifest.segments.length })}\n`);
      } finally {
        await ledger.close();
      }
    });
}
