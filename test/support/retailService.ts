import pino from 'pino';
import { retailDomain } from '../../retail/domain.js';
import type { ServiceOptions } from '../../service/service.js';

/** `startService` options of a quiet retail service on a free loopback port, with the test's own on top. */
export function retailServiceOptions(dataDir: string, overrides: Partial<ServiceOptions> = {}): ServiceOptions {
  return { domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 2, logger: pino({ level: 'silent' }), ...overrides };
}
