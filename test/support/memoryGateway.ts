import pino from 'pino';
import { Registry } from 'prom-client';
import { startGateway } from '../../gateway/server.js';
import type { Gateway, GatewayOptions } from '../../gateway/types.js';
import { ViewEngine } from '../../joiner/viewEngine.js';
import { MemoryLedger } from '../../ledger/memoryLedger.js';
import { MemoryStore } from '../../projections/memoryStore.js';
import { ProjectionRuntime } from '../../projections/runtime.js';
import type { Domain } from '../../service/domain.js';

/** What of a domain an in-process server needs (no fold worker, so no topology module). */
export type InProcessDomain = Pick<Domain, 'consumer' | 'streams' | 'route' | 'projections' | 'views' | 'validate'>;

export interface MemoryServer {
  gateway: Gateway;
  ledger: MemoryLedger;
  runtime: ProjectionRuntime;
  views: ViewEngine;
  url: string;
  liveUrl: string;
  close(): Promise<void>;
}

/** A real gateway on a free port over the real runtime and view engine, with a memory ledger and store. */
export async function startMemoryServer(domain: InProcessDomain, overrides: Partial<GatewayOptions> = {}, shards = 4): Promise<MemoryServer> {
  const ledger = new MemoryLedger({ streams: domain.streams(shards), route: domain.route });
  const runtime = new ProjectionRuntime({ consumer: domain.consumer, ledger, store: new MemoryStore(), projections: domain.projections });
  const views = new ViewEngine({ source: runtime, views: domain.views });
  runtime.start();
  const gateway = await startGateway({
    ledger,
    validate: domain.validate,
    views,
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    ...overrides,
  });
  return {
    gateway,
    ledger,
    runtime,
    views,
    url: `http://127.0.0.1:${gateway.port}`,
    liveUrl: `ws://127.0.0.1:${gateway.port}/v1/live`,
    async close() {
      await gateway.close();
      views.close();
      await runtime.stop();
      await ledger.close();
    },
  };
}
