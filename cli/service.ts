import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { startGateway } from '../gateway/server.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { ProjectionRuntime } from '../projections/runtime.js';
import { retailProjections } from '../retail/projections.js';
import { validateBatch } from '../retail/schemas.js';
import { retailRouter, retailStreams } from '../retail/streams.js';
import { retailViews } from '../retail/views.js';

export interface ServiceOptions {
  dataDir: string;
  host: string;
  port: number;
  /** Shards per stream for a new data directory (an existing one keeps its own). */
  shards: number;
  logger?: Logger;
}

export interface Service {
  url: string;
  ledger: EmbeddedLedger;
  runtime: ProjectionRuntime;
  views: ViewEngine;
  close(): Promise<void>;
}

/** The consumer name of the retail views' projections. */
const consumer = 'retail-views';

/**
 * One process with everything: the embedded ledger, the retail projections folding it
 * into the embedded store, the view engine and the gateway.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const logger = options.logger ?? pino({ name: 'foldline', level: process.env['FOLDLINE_LOG_LEVEL'] ?? 'info' });
  const ledger = await EmbeddedLedger.open({ path: join(options.dataDir, 'ledger'), streams: retailStreams(options.shards), route: retailRouter });
  const store = new EmbeddedStore({ path: join(options.dataDir, 'state') });
  const runtime = new ProjectionRuntime({ consumer, ledger, store, projections: retailProjections, logger: logger.child({ layer: 'projections' }) });
  const views = new ViewEngine({
    source: runtime,
    views: retailViews,
    onError: (error, view, key) => logger.error({ err: error, view, key }, 'view computation failed'),
  });
  runtime.start();
  const gateway = await startGateway({
    ledger,
    validate: validateBatch,
    views,
    host: options.host,
    port: options.port,
    logger: logger.child({ layer: 'gateway' }),
    registry: new Registry(),
  });
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${gateway.port}`;
  logger.info({ url, dataDir: options.dataDir }, `listening on ${url}`);
  return {
    url,
    ledger,
    runtime,
    views,
    async close() {
      await gateway.close();
      views.close();
      await runtime.stop();
      await store.close();
      await ledger.close();
    },
  };
}
