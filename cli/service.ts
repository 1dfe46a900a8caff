import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { checkListenAddress } from '../gateway/auth/listenAddress.js';
import { startGateway } from '../gateway/server.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import { EmbeddedStore } from '../projections/embeddedStore.js';
import { FoldWorker } from '../projections/foldWorker.js';
import { retailAccess } from '../retail/access.js';
import { validateBatch } from '../retail/schemas.js';
import { storefrontAssets } from '../retail/storefront/assets.js';
import { retailRouter, retailStreams } from '../retail/streams.js';
import { retailViews } from '../retail/views.js';
import { loadDemoHistory } from './demoHistory.js';
import { missingServiceFlags } from './heapFlags.js';
import { demoListRoutes, demoSignInRoute } from './demoRoutes.js';

export interface ServiceOptions {
  dataDir: string;
  host: string;
  port: number;
  /** Shards per stream for a new data directory (an existing one keeps its own). */
  shards: number;
  logger?: Logger;
  /** HS256 secret for bearer tokens; without it every call is allowed and only loopback hosts are accepted. */
  authSecret?: string;
  /** Browser origins allowed to open WebSockets (default: the server's own, and localhost when on loopback). */
  allowedOrigins?: string[];
  /** Offer `POST /v1/demo/sign-in` (anyone may sign in as any customer) and load a demo history into an empty ledger. */
  demo?: boolean;
  /** The fold worker died: views no longer advance, the service should go (default: log only). */
  onFatal?: (error: Error) => void;
}

export interface Service {
  url: string;
  ledger: EmbeddedLedger;
  runtime: FoldWorker;
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
  // Before anything is opened: refusing must leave nothing behind.
  checkListenAddress(options.host, options.authSecret !== undefined);
  // Logs go to stderr: stdout is for what a command answers.
  const logger = options.logger ?? pino({ name: 'foldline', level: process.env['FOLDLINE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  const missingFlags = missingServiceFlags();
  if (missingFlags.length > 0) logger.warn({ missingFlags }, 'node was started without the service\'s V8 flags: expect major-GC pauses in push latencies (docs/operations.md)');
  const ledger = await EmbeddedLedger.open({ path: join(options.dataDir, 'ledger'), streams: retailStreams(options.shards), route: retailRouter });
  if (options.demo) await loadDemoHistory(ledger, logger);
  const storePath = join(options.dataDir, 'state');
  const store = new EmbeddedStore({ path: storePath });
  const registry = new Registry();
  // Folding runs on its own core; this thread parses, validates, appends and serves.
  const runtime = new FoldWorker({
    topology: new URL('../retail/topology.ts', import.meta.url).href,
    consumer,
    ledger,
    ledgerPath: join(options.dataDir, 'ledger'),
    store,
    storePath,
    // The embedded ledger refuses a repeated (source, id) at append: no id window is needed.
    idWindow: 0,
    logger,
    registry,
    // A failure before it runs is thrown by `ready` below instead.
    onFatal: (error) => {
      if (serving) options.onFatal?.(error);
    },
  });
  let serving = false;
  try {
    // Listen only once views can advance.
    await runtime.ready();
    serving = true;
  } catch (error) {
    await runtime.stop();
    await store.close();
    await ledger.close();
    throw error;
  }
  const views = new ViewEngine({
    source: runtime,
    views: retailViews,
    onError: (error, view, key) => logger.error({ err: error, view, key }, 'view computation failed'),
  });
  const gateway = await startGateway({
    ledger,
    validate: validateBatch,
    views,
    host: options.host,
    port: options.port,
    logger: logger.child({ layer: 'gateway' }),
    registry,
    moreMetrics: () => runtime.metrics(),
    ...(options.authSecret === undefined ? {} : { auth: { secret: options.authSecret, policy: retailAccess } }),
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    extraRoutes: [...demoListRoutes(), ...(options.demo ? [demoSignInRoute(options.authSecret)] : [])],
    assets: await storefrontAssets(),
  });
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${gateway.port}`;
  logger.info({ url, dataDir: options.dataDir }, 'service started');
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
