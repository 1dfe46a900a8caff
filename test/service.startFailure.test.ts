import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import { startService } from '../service/service.js';
import { domain as library } from './support/library/domain.js';

/* A service that cannot start leaves nothing behind: no lock, no listener, no worker. */
const options = { host: '127.0.0.1', shards: 1, logger: pino({ level: 'silent' }) };

describe('startService refusing to start', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'foldline-start-failure-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('closes what it opened when the gateway cannot start, so that the data directory opens again', async () => {
    const failing = {
      ...library,
      assets: async (): Promise<never> => {
        throw new FoldlineError('no_assets', 'the assets cannot be read');
      },
    };
    await expect(startService({ ...options, domain: failing, dataDir, port: 0 })).rejects.toMatchObject({ code: 'no_assets' });
    expect(existsSync(join(dataDir, 'ledger', 'foldline.lock'))).toBe(false);
    const service = await startService({ ...options, domain: library, dataDir, port: 0 });
    await service.close();
  });

  it('refuses a port in use before it opens anything', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = holder.address() as { port: number };
    try {
      const elsewhere = join(dataDir, 'elsewhere');
      await expect(startService({ ...options, domain: library, dataDir: elsewhere, port })).rejects.toMatchObject({ code: 'port_in_use', message: `port ${port} is in use` });
      expect(existsSync(elsewhere)).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
