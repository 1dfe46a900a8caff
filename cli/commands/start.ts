import { Command, InvalidArgumentError, Option } from 'commander';
import { roles, type Role } from '../../service/backends.js';
import type { Started } from '../../service/roles.js';
import { addBackendOptions, backendChoice, type BackendFlags } from '../backendOptions.js';
import { domainOption, loadDomain } from '../domainOption.js';
import { missingServiceFlags } from '../heapFlags.js';

export function integerOption(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return value;
  };
}

export function startCommand(): Command {
  const command = new Command('start')
    .description('run the ledger, the projections of a domain (Hello Retail by default) and the gateway in one process')
    .option('--data <dir>', 'data directory of the embedded ledger and store (created if missing)')
    .option('--port <n>', 'port to listen on (0: any free port)', integerOption('--port', 0, 65535), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--shards <n>', 'shards per stream for a new data directory', integerOption('--shards', 1, 64), 4)
    .addOption(new Option('--auth-secret <secret>', 'HS256 secret (32+ bytes) for bearer tokens; prefer the environment variable: the flag shows in ps').env('FOLDLINE_AUTH_SECRET'))
    .option('--allowed-origins <origins>', 'comma-separated browser origins allowed to open WebSockets (`:*` any port, `*` any origin)')
    .option('--change-views <views>', 'comma-separated views on the change stream, GET /v1/changes (every key of each is kept in memory)')
    .option('--demo', "load the domain's demo history into an empty data directory and offer its demo routes (retail: POST /v1/demo/sign-in, where anyone may act as any customer)")
    .addOption(domainOption())
    .addHelpText('after', '\nFOLDLINE_LOG_LEVEL sets the level of the structured log on stderr (info by default).');
  return addBackendOptions(command)
    .addOption(new Option('--role <role>', 'all: everything in one process; projector or gateway: one part of a scaled-out deployment (docs/operations.md)').choices(roles).default('all').env('FOLDLINE_ROLE'))
    .addOption(new Option('--failover-ms <ms>', "how long a dead projector's shard leases wait before another projector takes them over").argParser(integerOption('--failover-ms', 100, 3_600_000)).default(10_000).env('FOLDLINE_FAILOVER_MS'))
    .action(async (options: BackendFlags & { role: Role; failoverMs: number; port: number; host: string; shards: number; authSecret?: string; allowedOrigins?: string; changeViews?: string; demo?: boolean; domain?: string }) => {
      // A variable exported empty counts as unset.
      const authSecret = options.authSecret || undefined;
      // Handled from the start: a signal during startup lets it finish, then closes what it opened.
      // Every time, not once: a Ctrl-C reaches this process twice when bin/foldline.js started it
      // (from the terminal, and forwarded), and the second must not kill it mid-close.
      let starting: Promise<Started> | undefined;
      let stopping = false;
      const stop = async (code = 0): Promise<void> => {
        if (stopping) return;
        stopping = true;
        await (await starting?.catch(() => undefined))?.close();
        process.exit(code);
      };
      process.on('SIGTERM', () => void stop());
      process.on('SIGINT', () => void stop());
      // Loaded here: the service pulls in the whole engine, which other commands do not need.
      const [{ startRole }, { cliLogger }, domain] = await Promise.all([
        import('../../service/roles.js'),
        import('../logger.js'),
        loadDomain(options.domain),
      ]);
      const logger = cliLogger();
      const missingFlags = missingServiceFlags();
      if (missingFlags.length > 0) logger.warn({ missingFlags }, "node was started without the service's V8 flags: expect major-GC pauses in push latencies (docs/operations.md)");
      starting = startRole({
        role: options.role,
        choice: backendChoice(options),
        failoverMs: options.failoverMs,
        domain,
        logger,
        host: options.host,
        port: options.port,
        shards: options.shards,
        ...(authSecret === undefined ? {} : { authSecret }),
        ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins.split(',').map((origin) => origin.trim()).filter(Boolean) }),
        ...(options.changeViews === undefined ? {} : { changeViews: options.changeViews.split(',').map((view) => view.trim()).filter(Boolean) }),
        demo: options.demo ?? false,
        // Views that no longer advance are an outage: exit non-zero for the supervisor to restart us.
        onFatal: () => void stop(1),
      });
      const started = await starting;
      if (!stopping) console.log(started.url === undefined ? `foldline ${options.role} running` : `foldline listening on ${started.url}`);
    });
}
