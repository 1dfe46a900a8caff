import { pino, type Logger } from 'pino';
import { FoldlineError } from '../base/errors.js';
import { Registry } from 'prom-client';
import { switchToRebuiltState } from '../archive/staging.js';
import type { Gateway } from '../gateway/types.js';
import { ChangeFeed, defaultChangeLogLimits } from '../joiner/changeFeed.js';
import type { ChangeLogLimits } from '../joiner/changeLog.js';
import { ViewExplainer } from '../joiner/explain.js';
import type { ViewDefinition } from '../joiner/types.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import type { Ledger } from '../ledger/types.js';
import { FoldWorker } from '../projections/foldWorker.js';
import { hasBlobs } from '../projections/storeBackend.js';
import type { StateStore } from '../projections/types.js';
import { Subscriptions, type SubscriptionsOptions } from '../subscriptions/subscriptions.js';
import type { SubscriptionStore } from '../subscriptions/types.js';
import { openSubscriptionStore } from './subscriptionStore.js';
import { embeddedBackends, loadBackends, type Backends } from './backends.js';
import { loadDemoHistory } from './demoHistory.js';
import type { Domain } from './domain.js';
import { refuseNewProjections } from './newProjections.js';
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
  /** Views on the change stream (`/v1/changes`): every key of each is kept in memory. Default: none. */
  changeViews?: readonly string[];
  /** How many changes, and how old, the change stream keeps for consumers to resume from. */
  changeLog?: ChangeLogLimits;
  /** How webhook deliveries are retried and paced (default: `defaultDelivery`). */
  subscriptionDelivery?: SubscriptionsOptions['delivery'];
}

export interface Service {
  url: string;
  ledger: Ledger;
  runtime: FoldWorker;
  views: ViewEngine;
  subscriptions: Subscriptions;
  changes: ChangeFeed | undefined;
  close(): Promise<void>;
}

/**
 * One process with everything: a domain's events appended to the ledger, folded by its
 * projections in a worker thread into the state store, joined into its views and served by
 * the gateway.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const { domain } = options;
  const changeDefinitions = changeViewDefinitions(options);
  await checkGatewayOptions(options);
  // Logs go to stderr: stdout is for what a command answers.
  const logger = options.logger ?? pino({ name: 'foldline', level: process.env['FOLDLINE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  const backends = options.backends ?? embeddedBackends(requiredDataDir(options.dataDir));
  const loaded = await loadBackends(backends);
  const ledger = await loaded.ledger.open(backends.ledger.config, { streams: domain.streams(options.shards), route: domain.route });
  // The data directory whose store `foldline rebuild` writes: it switches to a rebuild, which can mend a projection new to it.
  const rebuildable = options.dataDir !== undefined && backends.store.module === embeddedBackends(options.dataDir).store.module ? options.dataDir : undefined;
  let store;
  try {
    // A rebuild that completed while another process served this directory takes over now that the ledger's lock is ours.
    if (rebuildable !== undefined && (await switchToRebuiltState(rebuildable))) {
      logger.info('switched to the rebuilt state (foldline rebuild)');
    }
    if (options.demo && domain.demo) await loadDemoHistory(ledger, domain.demo.history(), logger);
    store = await loaded.store.open(backends.store.config);
    if (rebuildable !== undefined) refuseNewProjections(await store.checkpoint(domain.consumer), domain.projections, domain.consumer);
  } catch (error) {
    await store?.close();
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
  const changes = changeFeed(changeDefinitions, options, views, runtime, store);
  let subscriptionStore: SubscriptionStore | undefined;
  let subscriptions: Subscriptions | undefined;
  const closeBehindGateway = async (): Promise<void> => {
    await subscriptions?.close();
    await subscriptionStore?.close();
    await changes?.close();
    views.close();
    await runtime.stop();
    await store.close();
    await ledger.close();
  };
  let gateway: Gateway;
  let url: string;
  try {
    // Webhooks read the ledger themselves, each from its own checkpoint: never in the fold's way.
    subscriptionStore = await openSubscriptionStore(options.dataDir);
    subscriptions = await Subscriptions.open({
      ledger,
      store: subscriptionStore,
      changes,
      logger,
      registry,
      ...(options.subscriptionDelivery ? { delivery: options.subscriptionDelivery } : {}),
    });
    ({ gateway, url } = await serveGateway(options, {
      ledger,
      views,
      logger,
      registry,
      moreMetrics: () => runtime.metrics(),
      subscriptions,
      ...(changes ? { changes } : {}),
      explainer: new ViewExplainer({ engine: views, source: runtime, ledger, projections: domain.projections }),
      ...(domain.documents && hasBlobs(store) ? { documents: { mapping: domain.documents, store } } : {}),
    }));
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
    subscriptions,
    changes,
    async close() {
      await gateway.close();
      await closeBehindGateway();
    },
  };
}

/** The views asked for on the change stream: refused before anything is opened if one is unknown or cannot be streamed. */
function changeViewDefinitions(options: ServiceOptions): ViewDefinition[] {
  return (options.changeViews ?? []).map((name) => {
    const definition = options.domain.views.find((view) => view.name === name);
    if (!definition) throw new FoldlineError('unknown_view', `no view named ${JSON.stringify(name)} to put on the change stream`);
    if (!definition.keysFrom?.length) throw new FoldlineError('not_streamed', `view ${JSON.stringify(name)} names no projections its keys come from (keysFrom): it cannot be streamed`);
    return definition;
  });
}

function changeFeed(definitions: ViewDefinition[], options: ServiceOptions, views: ViewEngine, runtime: FoldWorker, store: StateStore): ChangeFeed | undefined {
  if (definitions.length === 0) return undefined;
  return new ChangeFeed({
    engine: views,
    source: runtime,
    views: definitions,
    existingKeys: (namespace) => store.keys(namespace),
    limits: options.changeLog ?? defaultChangeLogLimits,
  });
}

function requiredDataDir(dataDir: string | undefined): string {
  if (dataDir === undefined) throw new TypeError('startService needs a dataDir for the embedded backends, or backends');
  return dataDir;
}
