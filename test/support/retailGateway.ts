import pino from 'pino';
import { Registry } from 'prom-client';
import { startGateway } from '../../gateway/server.js';
import type { Gateway, GatewayOptions } from '../../gateway/types.js';
import { ViewEngine } from '../../joiner/viewEngine.js';
import { MemoryLedger } from '../../ledger/memoryLedger.js';
import { MemoryStore } from '../../projections/memoryStore.js';
import { ProjectionRuntime } from '../../projections/runtime.js';
import { retailProjections } from '../../retail/projections.js';
import { validateBatch } from '../../retail/schemas.js';
import { retailRouter, retailStreams } from '../../retail/streams.js';
import { retailViews } from '../../retail/views.js';

/** The retail domain behind a real gateway on a free port, over a memory ledger and store. */
export interface RetailServer {
  gateway: Gateway;
  views: ViewEngine;
  url: string;
  liveUrl: string;
  close(): Promise<void>;
}

export async function startRetailServer(overrides: Partial<GatewayOptions> = {}): Promise<RetailServer> {
  const ledger = new MemoryLedger({ streams: retailStreams(4), route: retailRouter });
  const runtime = new ProjectionRuntime({ consumer: 'retail-views', ledger, store: new MemoryStore(), projections: retailProjections });
  const views = new ViewEngine({ source: runtime, views: retailViews });
  runtime.start();
  const gateway = await startGateway({
    ledger,
    validate: validateBatch,
    views,
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    ...overrides,
  });
  return {
    gateway,
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

let counter = 0;

/** A valid retail CloudEvent with a fresh id; `subject` is the key field's value. */
export function retailEvent(type: string, subject: string, data: Record<string, unknown>): Record<string, unknown> {
  counter++;
  return {
    specversion: '1.0',
    id: `t-${counter}`,
    source: 'test/retail',
    type,
    time: new Date(Date.UTC(2024, 4, 1) + counter).toISOString(),
    subject,
    data,
  };
}

export function productCreated(sku: string, price: number, category = 'cosmetics'): Record<string, unknown> {
  return retailEvent('retail.product.created', sku, { sku, name: `Product ${sku}`, brand: 'Aurora', category, price });
}

export function cartChange(kind: 'added' | 'removed', customerId: string, sku: string, quantity: number): Record<string, unknown> {
  return retailEvent(`retail.cart.item-${kind}`, customerId, { customerId, sku, quantity });
}
