import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Command, InvalidArgumentError } from 'commander';
import { FoldlineError } from '../../base/errors.js';
import type { CloudEvent } from '../../ledger/types.js';
import { domainOption, loadDomain } from '../domainOption.js';
import { openNamedFile } from '../namedFile.js';

/** Events per chunk written: large enough that stream overhead does not count. */
const chunkEvents = 1000;
const progressEvery = 100_000;

/** `foldline gen`: the domain's seeded traffic as CloudEvents NDJSON. */
export function genCommand(): Command {
  return new Command('gen')
    .description('generate realistic traffic of the domain (Hello Retail by default) as CloudEvents NDJSON (the same seed gives the same bytes)')
    .option('--seed <n>', 'seed of the generator (non-negative integer)', nonNegativeInteger, 1)
    .requiredOption('--events <n>', 'how many events to write', nonNegativeInteger)
    .option('--out <file>', 'write to this file instead of stdout; gzip when it ends with .gz')
    .addOption(domainOption())
    .action(async (options: { seed: number; events: number; out?: string; domain?: string }) => {
      const { seed, events, out } = options;
      const domain = await loadDomain(options.domain);
      if (!domain.generate) throw new FoldlineError('no_generator', `the ${domain.name} domain has no traffic generator`);
      // Opened first: a path that cannot be written is refused before any work.
      const target = out === undefined ? undefined : { file: (await openNamedFile(out, 'w', 'bad_output')).createWriteStream(), gzip: out.endsWith('.gz') };
      const generated = domain.generate({ seed, events });
      const started = performance.now();
      const progress = out === undefined ? undefined : (written: number) => process.stderr.write(`gen: ${written}/${events} events\n`);
      const lines = Readable.from(ndjsonChunks(generated, events, progress), { objectMode: false });
      try {
        if (target === undefined) await pipeline(lines, process.stdout);
        else if (target.gzip) await pipeline(lines, createGzip(), target.file);
        else await pipeline(lines, target.file);
      } catch (error) {
        // A reader that stops early (`| head`) is not a failure.
        if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      }
      if (out !== undefined) {
        const seconds = (performance.now() - started) / 1000;
        process.stderr.write(`gen: wrote ${events} events to ${out} in ${seconds.toFixed(1)} s (${Math.round(events / seconds)} events/s)\n`);
      }
    });
}

function* ndjsonChunks(generated: Iterable<CloudEvent>, events: number, progress?: (written: number) => void): Generator<string> {
  let chunk = '';
  let written = 0;
  for (const event of generated) {
    chunk += `${JSON.stringify(event)}\n`;
    if (++written % chunkEvents === 0) {
      yield chunk;
      chunk = '';
      if (written % progressEvery === 0 && written < events) progress?.(written);
    }
  }
  if (chunk) yield chunk;
}

function nonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new InvalidArgumentError('not a non-negative integer');
  return value;
}
