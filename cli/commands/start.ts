import { Command, InvalidArgumentError } from 'commander';
import { startService } from '../service.js';

const loopback = new Set(['127.0.0.1', 'localhost', '::1']);

export function integerOption(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return value;
  };
}

export function startCommand(): Command {
  return new Command('start')
    .description('run the ledger, the retail projections and the gateway in one process')
    .requiredOption('--data <dir>', 'data directory (created if missing)')
    .option('--port <n>', 'port to listen on (0: any free port)', integerOption('--port', 0, 65535), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--shards <n>', 'shards per stream for a new data directory', integerOption('--shards', 1, 64), 4)
    .action(async (options: { data: string; port: number; host: string; shards: number }) => {
      if (!loopback.has(options.host)) {
        throw new InvalidArgumentError(`--host ${options.host} would expose the service without authentication; listen on a loopback address`);
      }
      const service = await startService({ dataDir: options.data, host: options.host, port: options.port, shards: options.shards });
      let stopping = false;
      const stop = async (): Promise<void> => {
        if (stopping) return;
        stopping = true;
        await service.close();
        process.exit(0);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
