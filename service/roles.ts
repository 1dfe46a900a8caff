import { pino } from 'pino';
import { FoldlineError } from '../base/errors.js';
import { chosenBackends, type BackendChoice, type Role } from './backends.js';
import { startGatewayRole } from './gatewayRole.js';
import { startProjector } from './projector.js';
import { startService, type ServiceOptions } from './service.js';

export interface RoleOptions extends Omit<ServiceOptions, 'backends' | 'dataDir'> {
  role: Role;
  choice: BackendChoice;
  /** How long a dead projector's leases wait before another takes them over, ms. */
  failoverMs: number;
}

/** A started process of some role: its URL when it serves, and how to stop it. */
export interface Started {
  url?: string;
  close(): Promise<void>;
}

/**
 * Starts what a process of `role` runs: everything in one (`all`), or one part of a
 * scaled-out deployment, whose ledger and store several processes share.
 */
export async function startRole(options: RoleOptions): Promise<Started> {
  const { role, choice, ...rest } = options;
  const backends = chosenBackends(choice);
  // The data directory also keeps webhook subscriptions and a rebuilt state, whatever the backends.
  if (role === 'all') return startService({ ...rest, backends, ...(choice.dataDir === undefined ? {} : { dataDir: choice.dataDir }) });
  if (choice.ledger === 'embedded' || choice.store !== 'dynamodb') {
    throw new FoldlineError('bad_option', `--role ${role} needs a ledger and a store that several processes share: --ledger redis or kinesis, and --store dynamodb`);
  }
  if (role === 'gateway') return startGatewayRole({ ...rest, backends, redisUrl: choice.redisUrl, name: choice.name });
  const logger = rest.logger ?? pino({ name: 'foldline', level: process.env['FOLDLINE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  return startProjector({
    domain: rest.domain,
    backends,
    shards: rest.shards,
    logger,
    redisUrl: choice.redisUrl,
    name: choice.name,
    failoverMs: options.failoverMs,
    onFatal: rest.onFatal ?? (() => {}),
  });
}
