import { Command, InvalidArgumentError } from 'commander';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { FoldlineError } from '../../base/errors.js';
import { isSeq } from '../../crdt/index.js';
import { EmbeddedLedger } from '../../ledger/embeddedLedger.js';
import type { CloudEvent, Ledger, StreamSpec } from '../../ledger/types.js';
import type { Domain } from '../../service/domain.js';
import { domainOption, loadDomain } from '../domainOption.js';
import { openNamedFile } from '../namedFile.js';

/** Lines appended in one call at most; fewer when less input is waiting. */
const maxBatchLines = 1000;
const readPageSize = 1000;

/** `foldline ledger append|read`: the embedded ledger of a data directory. */
export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('append events to and read records from the embedded ledger of a data directory');

  ledger
    .command('append')
    .description('append NDJSON CloudEvents; prints one receipt per line, in input order, once it is durable')
    .argument('[file]', 'NDJSON file, or - for standard input', '-')
    .requiredOption('--data <dir>', 'data directory (created if missing)')
    .option('--shards <n>', 'shards per stream; a directory keeps the count it was created with', positiveInteger, 4)
    .addOption(domainOption())
    .addHelpText(
      'after',
      '\nLines are appended in batches of what has arrived (at most 1000), each one durable before its receipts print.' +
        '\nA bad line (not JSON, not a valid event of the domain, an id reused with other content) stops the append' +
        '\nwith an error naming its line number and exit code 1: the lines before it are appended and acknowledged,' +
        '\nnothing from it on. Blank lines are skipped. The directory is locked while the command runs.',
    )
    .action(async (file: string, options: { data: string; shards: number; domain?: string }) => {
      const domain = await loadDomain(options.domain);
      const input = file === '-' ? process.stdin : (await openNamedFile(file, 'r', 'bad_input')).createReadStream();
      await withLedger(options.data, domain, domain.streams(options.shards), (opened) => appendLines(input, opened, domain, process.stdout));
    });

  ledger
    .command('read')
    .description('print the records of a stream as NDJSON {stream, shard, seq, event}')
    .requiredOption('--data <dir>', 'data directory')
    .requiredOption('--stream <name>', 'stream to read')
    .option('--shard <n>', 'only this shard (default: every shard, one after the other)', shardNumber)
    .option('--after <seq>', 'only records after this sequence number', sequenceNumber)
    .addOption(domainOption())
    .action(async (options: { data: string; stream: string; shard?: number; after?: string; domain?: string }) => {
      if (!existsSync(ledgerPath(options.data))) throw new FoldlineError('no_data_dir', `no data directory with a ledger at ${options.data}`);
      await withLedger(options.data, await loadDomain(options.domain), undefined, (opened) => readRecords(opened, options, process.stdout));
    });

  return ledger;
}

/** The ledger of a data directory, where `foldline start --data` keeps it. */
function ledgerPath(dataDir: string): string {
  return join(dataDir, 'ledger');
}

/** Runs `work` on the ledger of data directory `dir`, closed (and unlocked) however `work` ends. */
async function withLedger(dir: string, domain: Domain, streams: StreamSpec[] | undefined, work: (ledger: Ledger) => Promise<void>): Promise<void> {
  const ledger = await EmbeddedLedger.open({ path: ledgerPath(dir), streams, route: domain.route });
  try {
    await work(ledger);
  } finally {
    await ledger.close();
  }
}

interface Line {
  number: number;
  event: CloudEvent;
}

/**
 * Appends the events of an NDJSON input: one append in flight at a time, each taking the
 * lines that arrived meanwhile, so a busy input makes big group commits.
 */
async function appendLines(input: Readable, ledger: Ledger, domain: Domain, output: Writable): Promise<void> {
  let badLine: FoldlineError | undefined;
  for await (const texts of lineBatches(input)) {
    const lines: Line[] = [];
    for (const { number, text } of texts) {
      try {
        lines.push({ number, event: parseEvent(text, number, domain) });
      } catch (error) {
        badLine = error as FoldlineError;
        break;
      }
    }
    // A conflict is on an earlier line than a bad line that cut the batch short.
    badLine = (await appendBatch(ledger, lines, output)) ?? badLine;
    if (badLine) throw badLine;
  }
}

/** Appends and prints receipts; on a conflict, appends the lines before it and returns the error. */
async function appendBatch(ledger: Ledger, lines: Line[], output: Writable): Promise<FoldlineError | undefined> {
  if (lines.length === 0) return undefined;
  try {
    const { receipts } = await ledger.append(lines.map((line) => line.event));
    await write(output, receipts.map((receipt) => `${JSON.stringify(receipt)}\n`).join(''));
    return undefined;
  } catch (error) {
    if (!(error instanceof FoldlineError) || error.index === undefined) throw error;
    // The batch appended nothing: keep the lines before the bad one.
    await appendBatch(ledger, lines.slice(0, error.index), output);
    return new FoldlineError(error.code, `line ${lines[error.index]!.number}: ${error.message}`);
  }
}

interface RawLine {
  number: number;
  text: string;
}

/** Batches of numbered non-blank lines: at most `maxBatchLines`, or whatever one input chunk held. */
async function* lineBatches(input: Readable): AsyncGenerator<RawLine[]> {
  const reader = createInterface({ input, crlfDelay: Infinity });
  const ready: RawLine[][] = [];
  let current: RawLine[] = [];
  let number = 0;
  let flushQueued = false;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const flush = (): void => {
    flushQueued = false;
    if (current.length > 0) ready.push(current);
    current = [];
    if (ready.length > 1) reader.pause();
    wake?.();
  };
  reader.on('line', (text) => {
    number++;
    if (text.trim() === '') return;
    current.push({ number, text });
    if (current.length >= maxBatchLines) flush();
    else if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  });
  reader.on('close', () => {
    ended = true;
    flush();
  });
  // readline re-emits the errors of its input.
  reader.once('error', (error) => {
    failure = error;
    wake?.();
  });
  try {
    for (;;) {
      if (failure) throw new FoldlineError('bad_input', `cannot read the input: ${failure.message}`);
      const batch = ready.shift();
      if (batch) {
        if (ready.length <= 1) reader.resume();
        yield batch;
      } else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    reader.close();
    input.destroy();
  }
}

/** One line's event, validated as the gateway validates an append. */
function parseEvent(text: string, number: number, domain: Domain): CloudEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FoldlineError('malformed_json', `line ${number}: not JSON (${(error as Error).message})`);
  }
  try {
    return domain.validate([value])[0]!;
  } catch (error) {
    if (!(error instanceof FoldlineError)) throw error;
    throw new FoldlineError(error.code, `line ${number}: ${error.message}`, error.path === undefined ? {} : { path: error.path });
  }
}

async function readRecords(ledger: Ledger, options: { stream: string; shard?: number; after?: string }, output: Writable): Promise<void> {
  const spec = ledger.streams.find((s) => s.name === options.stream);
  if (!spec) {
    throw new FoldlineError('unknown_stream', `no stream ${JSON.stringify(options.stream)}; the streams are ${ledger.streams.map((s) => s.name).join(', ')}`);
  }
  const shards = options.shard === undefined ? [...Array(spec.shards).keys()] : [options.shard];
  for (const shard of shards) {
    let after = options.after ?? null;
    for (;;) {
      const records = await ledger.read(spec.name, shard, after, readPageSize);
      if (records.length === 0) break;
      await write(output, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      after = records[records.length - 1]!.seq;
    }
  }
}

async function write(output: Writable, text: string): Promise<void> {
  if (!output.write(text)) await once(output, 'drain');
}

function positiveInteger(text: string): number {
  if (!/^[1-9][0-9]{0,5}$/.test(text)) throw new InvalidArgumentError('expected a positive integer');
  return Number(text);
}

function shardNumber(text: string): number {
  if (!/^(0|[1-9][0-9]{0,5})$/.test(text)) throw new InvalidArgumentError('expected a shard number (0, 1, …)');
  return Number(text);
}

function sequenceNumber(text: string): string {
  if (!isSeq(text)) throw new InvalidArgumentError('expected a sequence number');
  return text;
}
