import type { GatewayOptions } from '../../gateway/types.js';
import { retailDomain } from '../../retail/domain.js';
import { startMemoryServer, type MemoryServer } from './memoryGateway.js';

export type RetailServer = MemoryServer;

/** The retail domain behind a real gateway on a free port, over a memory ledger and store. */
export function startRetailServer(overrides: Partial<GatewayOptions> = {}): Promise<RetailServer> {
  return startMemoryServer(
    retailDomain,
    overrides,
  );
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
