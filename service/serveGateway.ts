import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { secretKey } from '../gateway/auth/jwt.js';
import { checkListenAddress } from '../gateway/auth/listenAddress.js';
import { checkCanListen, startGateway } from '../gateway/server.js';
import type { ExtraRoute, Gateway, GatewayOptions } from '../gateway/types.js';
import type { ServiceOptions } from './service.js';

/** Refuses what the gateway would, before anything is opened: refusing must leave nothing behind. */
export async function checkGatewayOptions(options: ServiceOptions): Promise<void> {
  checkListenAddress(options.host, options.authSecret !== undefined);
  if (options.authSecret !== undefined) secretKey(options.authSecret);
  await checkCanListen(options.host, options.port);
}

/** What a role gives its gateway besides what ServiceOptions configure: its ledger, views and metrics, and optional routes' parts. */
export type GatewayParts = Pick<GatewayOptions, 'ledger' | 'views' | 'registry' | 'moreMetrics' | 'explainer' | 'changes' | 'subscriptions' | 'documents'> & { logger: Logger; registry: Registry };

/** The gateway of a domain's views, as ServiceOptions configure it (address, auth, origins, the domain's routes and assets). */
export async function serveGateway(options: ServiceOptions, parts: GatewayParts): Promise<{ gateway: Gateway; url: string }> {
  const { domain } = options;
  const { logger, ...given } = parts;
  const extraRoutes: ExtraRoute[] = [...(domain.routes ?? []), ...(options.demo ? (domain.demo?.routes ?? []) : [])];
  const gateway = await startGateway({
    ...given,
    validate: domain.validate,
    host: options.host,
    port: options.port,
    logger: logger.child({ layer: 'gateway' }),
    ...(options.authSecret === undefined ? {} : { auth: { secret: options.authSecret, policy: domain.access } }),
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    extraRoutes,
    ...(domain.assets ? { assets: await domain.assets() } : {}),
  });
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${gateway.port}`;
  return { gateway, url };
}
