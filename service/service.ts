import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Gateway } from '../gateway/types.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import type { Ledger } from '../ledger/types.js';
import { FoldWorker } from '../projections/foldWorker.js';
import { embeddedBackends, loadBackends, type Backends } from './backends.js';
import { loadDemoHistory } from './demoHistory.js';
import type { Domain } from './domain.js';
import { checkGatewayOptions, serveGateway } from './serveGateway.js';

export interface ServiceOptions {
  domain: Domain;
  /** Where the ledger and the state store live. Default: the embedded ones under `dataDir`. */
  backends?: Backends;
  /** The data directory of the embedded backends (when `backends` is not given). */
  dataDir?: string;
  host: string;
  port: number;
  /** Shards per stream for a new ledger (an existing one keeps its own). */
  shards: number;
  logger?: Logger;
  /** HS256 secret for bearer tokens; without it every call is allowed and only loopback hosts are accepted. */
  authSecret?: string;
  /** Browser origins allowed to open WebSockets (default: the server's own, and localhost when on loopback). */
  allowedOrigins?: string[];
  /** Load the domain's demo history into an empty ledger and offer its demo routes (such as signing in as anyone). */
  demo?: boolean;
  /** The fold worker died: views no longer advance, the service should go (default: log only). */
  onFatal?: (error: Error) => void;
}

export interface Service {
  url: string;
  ledger: Ledger;
  runtime: FoldWorker;
  views: ViewEngine;
  close(): Promise<void>;
}

/**
 * One process with everything: a domain's events appended to the ledger, folded by its
 * projections in a worker thread into the state store, joined into its views and served by
 * the gateway.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const { domain } = options;
  await checkGatewayOptions(options);
  // Logs go to stderr: stdout is for what a command answers.
  const logger = options.logger ?? pino({ name: 'foldline', level: process.env['FOLDLINE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  const backends = options.backends ?? embeddedBackends(requiredDataDir(options.dataDir));
  const loaded = await loadBackends(backends);
  const ledger = await loaded.ledger.open(backends.ledger.config, { streams: domain.streams(options.shards), route: domain.route });
  let store;
  try {
    if (options.demo && domain.demo) await loadDemoHistory(ledger, domain.demo.history(), logger);
    store = await loaded.store.open(backends.store.config);
  } catch (error) {
    await ledger.close();
    throw error;
  }
  const registry = new Registry();
  // Folding runs on its own core; this thread parses, validates, appends and serves.
  const runtime = new FoldWorker({
    topology: domain.topology,
    consumer: domain.consumer,
    ledger,
    ledgerBackend: backends.ledger,
    readerFollowsWriter: loaded.ledger.capabilities.readerFollowsWriter,
    store,
    storeBackend: backends.store,
    // A ledger that refuses a repeated (source, id) at append needs no id window.
    ...(loaded.ledger.capabilities.identityDedup ? { idWindow: 0 } : {}),
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
    views: domain.views,
    onError: (error, view, key) => logger.error({ err: error, view, key }, 'view computation failed'),
  });
  const closeBehindGateway = async (): Promise<void> => {
    views.close();
    await runtime.stop();
    await store.close();
    await ledger.close();
  };
  let gateway: Gateway;
  let url: string;
  try {
    ({ gateway, url } = await serveGateway(options, { ledger, views, logger, registry, moreMetrics: () => runtime.metrics() }));
  } catch (error) {
    // A port in use, say: close what was opened, the data directory's lock with it.
    await closeBehindGateway();
    throw error;
  }
  logger.info({ url, domain: domain.name, backends: { ledger: backends.ledger.module, store: backends.store.module } }, 'service started');
  return {
    url,
    ledger,
    runtime,
    views,
    async close() {
      await gateway.close();
      await closeBehindGateway();
    },
  };
}

function requiredDataDir(dataDir: string | undefined): string {
  if (dataDir === undefined) throw new TypeError('startService needs a dataDir for the embedded backends, or backends');
  return dataDir;
}
