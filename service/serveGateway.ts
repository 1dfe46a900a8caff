import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { secretKey } from '../gateway/auth/jwt.js';
import { checkListenAddress } from '../gateway/auth/listenAddress.js';
import { checkCanListen, startGateway } from '../gateway/server.js';
import type { ExtraRoute, Gateway } from '../gateway/types.js';
import type { ViewEngine } from '../joiner/viewEngine.js';
import type { Ledger } from '../ledger/types.js';
import type { ServiceOptions } from './service.js';

/** Refuses what the gateway would, before anything is opened: refusing must leave nothing behind. */
export async function checkGatewayOptions(options: ServiceOptions): Promise<void> {
  checkListenAddress(options.host, options.authSecret !== undefined);
  if (options.authSecret !== undefined) secretKey(options.authSecret);
  await checkCanListen(options.host, options.port);
}

/** The gateway of a domain's views over a ledger, as ServiceOptions configure it. */
export async function serveGateway(
  options: ServiceOptions,
  parts: { ledger: Ledger; views: ViewEngine; logger: Logger; registry: Registry; moreMetrics?: () => Promise<string> },
): Promise<{ gateway: Gateway; url: string }> {
  const { domain } = options;
  const extraRoutes: ExtraRoute[] = [...(domain.routes ?? []), ...(options.demo ? (domain.demo?.routes ?? []) : [])];
  const gateway = await startGateway({
    ledger: parts.ledger,
    validate: domain.validate,
    views: parts.views,
    host: options.host,
    port: options.port,
    logger: parts.logger.child({ layer: 'gateway' }),
    registry: parts.registry,
    ...(parts.moreMetrics ? { moreMetrics: parts.moreMetrics } : {}),
    ...(options.authSecret === undefined ? {} : { auth: { secret: options.authSecret, policy: domain.access } }),
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    extraRoutes,
    ...(domain.assets ? { assets: await domain.assets() } : {}),
  });
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${gateway.port}`;
  return { gateway, url };
}
