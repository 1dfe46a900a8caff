import { pino } from 'pino';
import { Registry } from 'prom-client';
import { StoreFeed } from '../backends/redis/changeFeed.js';
import { ViewEngine } from '../joiner/viewEngine.js';
import type { Ledger } from '../ledger/types.js';
import { loadBackends, type Backends } from './backends.js';
import { checkGatewayOptions, serveGateway } from './serveGateway.js';
import type { ServiceOptions } from './service.js';

export interface GatewayRoleOptions extends ServiceOptions {
  /** A ledger and a store that several processes share: see `sharedBackends`. */
  backends: Backends;
  /** The Redis whose pub/sub tells of the projectors' commits. */
  redisUrl: string;
  /** The deployment's name (channels). */
  name: string;
}

export interface GatewayRole {
  url: string;
  ledger: Ledger;
  views: ViewEngine;
  close(): Promise<void>;
}

/**
 * `foldline start --role gateway`: appends to the shared ledger and serves the views over
 * the shared store, folding nothing itself. The projectors' commits reach its views
 * through Redis pub/sub (StoreFeed), so a subscriber here is pushed changes folded anywhere,
 * and a token from any gateway is waited for until a commit covering it is published.
 */
export async function startGatewayRole(options: GatewayRoleOptions): Promise<GatewayRole> {
  const { domain, backends } = options;
  await checkGatewayOptions(options);
  const logger = options.logger ?? pino({ name: 'foldline', level: process.env['FOLDLINE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  const loaded = await loadBackends(backends);
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const ledger = await loaded.ledger.open(backends.ledger.config, { streams: domain.streams(options.shards), route: domain.route });
    opened.unshift(ledger);
    const store = await loaded.store.open(backends.store.config);
    opened.unshift(store);
    const feed = await StoreFeed.open({ url: options.redisUrl, name: options.name, store, consumer: domain.consumer });
    opened.unshift(feed);
    const views = new ViewEngine({
      source: feed,
      views: domain.views,
      onError: (error, view, key) => logger.error({ err: error, view, key }, 'view computation failed'),
    });
    opened.unshift({ close: async () => views.close() });
    const { gateway, url } = await serveGateway(options, { ledger, views, logger, registry: new Registry() });
    logger.info({ url, domain: domain.name, role: 'gateway' }, 'service started');
    return {
      url,
      ledger,
      views,
      async close() {
        await gateway.close();
        for (const part of opened) await part.close();
      },
    };
  } catch (error) {
    for (const part of opened) await part.close();
    throw error;
  }
}
