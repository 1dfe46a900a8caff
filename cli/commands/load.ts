import { Command, InvalidArgumentError, Option } from 'commander';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { FoldlineError } from '../../base/errors.js';
import { appendModes, type AppendMode } from '../../client/load/appenders.js';
import { scenarioNames, type ScenarioName } from '../../client/load/scenarios.js';
import { serverUrlOption } from '../serverUrl.js';
import { integerOption } from './start.js';

interface LoadCommandOptions {
  url: string;
  scenario: ScenarioName;
  rate: number;
  duration: number;
  warmup: number;
  subscribers: number;
  customers?: number;
  append: AppendMode;
  catalog: number;
  seed: number;
  token?: string;
  timeout: number;
  json?: boolean;
}

/** `foldline load`: arrivals at a fixed rate, WebSocket subscribers, effect-after-cause latency. */
export function loadCommand(): Command {
  return new Command('load')
    .description('load a foldline server (in the spirit of Serverless Artillery): appends at a fixed arrival rate while WebSocket clients watch the changed views; reports throughput and effect-after-cause latency')
    .requiredOption('--url <url>', 'base URL of the server, such as http://127.0.0.1:8080', serverUrlOption)
    .addOption(new Option('--scenario <name>', 'browse (recently-viewed), cart (adds and removes), order (fill a cart, order it), mixed').choices(scenarioNames).default('cart'))
    .option('--rate <n>', 'appends per second, sent on schedule whatever the answers (open model); an order with its cart clears is one append', positiveNumber('--rate'), 100)
    .option('--duration <s>', 'seconds of arrivals (then at most one --timeout of drain)', positiveNumber('--duration'), 10)
    .option('--warmup <s>', 'seconds of the same load sent first and left out of the figures (errors and timeouts still count)', nonNegativeNumber('--warmup'), 0)
    .option('--subscribers <n>', 'WebSocket connections, each watching one customer', integerOption('--subscribers', 1, 100_000), 100)
    .option('--customers <n>', 'customers acted for, at most --subscribers (several sockets per customer: devices); default one per subscriber', integerOption('--customers', 1, 100_000))
    .addOption(new Option('--append <via>', 'append over HTTP POST /v1/events or over the customer\'s WebSocket').choices(appendModes).default('http'))
    .option('--catalog <n>', 'products posted first: the generator\'s first product.created events (duplicates if already there)', integerOption('--catalog', 1, 100_000), 50)
    .option('--seed <n>', 'seed of the catalog and of the scenario\'s choices', integerOption('--seed', 0, Number.MAX_SAFE_INTEGER), 1)
    .option('--token <jwt>', 'bearer token for every call (staff or service: the load acts for many customers)')
    .option('--timeout <ms>', 'how long an append may go unanswered or unseen; also the drain after the last append', integerOption('--timeout', 1, 600_000), 5000)
    .option('--json', 'print the report as JSON')
    .action(async (options: LoadCommandOptions) => {
      // Loaded here: the load generator's clients are not needed by other commands.
      const [{ runLoad }, { formatLoadReport }] = await Promise.all([import('../../client/load/runLoad.js'), import('../../client/load/formatReport.js')]);
      await checkReachable(options.url, options.timeout);
      const stop = new AbortController();
      // Every time, not once: bin/foldline.js forwards the Ctrl-C this process also gets from the terminal.
      process.on('SIGINT', () => stop.abort());
      const report = await runLoad({
        url: options.url,
        scenario: options.scenario,
        rate: options.rate,
        durationSeconds: options.duration,
        warmupSeconds: options.warmup,
        subscribers: options.subscribers,
        ...(options.customers === undefined ? {} : { customers: options.customers }),
        append: options.append,
        catalogProducts: options.catalog,
        seed: options.seed,
        ...(options.token === undefined ? {} : { token: options.token }),
        timeoutMs: options.timeout,
        signal: stop.signal,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      console.log(options.json ? JSON.stringify(report, null, 2) : formatLoadReport(report));
    });
}

/** Refuses a --url nothing answers at before any load is sent, in one line rather than a socket error's stack. */
function checkReachable(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const health = new URL('/v1/health', url);
    const probe = (health.protocol === 'https:' ? httpsGet : httpGet)(health, { timeout: timeoutMs }, (answer) => {
      answer.resume();
      resolve();
    });
    probe.once('timeout', () => probe.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    probe.once('error', (error: NodeJS.ErrnoException) => reject(new FoldlineError('unreachable', `cannot reach ${url} (${error.code ?? error.message})`)));
  });
}

function positiveNumber(name: string) {
  return numberAtLeast(name, 'a positive number', (value) => value > 0);
}

function nonNegativeNumber(name: string) {
  return numberAtLeast(name, 'a number ≥ 0', (value) => value >= 0);
}

function numberAtLeast(name: string, what: string, accepts: (value: number) => boolean) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || !accepts(value)) throw new InvalidArgumentError(`${name} must be ${what}`);
    return value;
  };
}
