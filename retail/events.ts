import { parseTime, type Stamp } from '../crdt/index.js';
import type { CloudEvent } from '../ledger/types.js';

/** The data of each retail event type, as retail/schemas.ts admits it. */
export interface ProductCreated {
  sku: string;
  name: string;
  brand: string;
  category: string;
  description?: string;
  price: number;
  attributes?: Record<string, string>;
}
export interface OrderLine {
  sku: string;
  quantity: number;
}

/** The LWW stamp of an event: its time in ms, its id, its source. */
export function stampOf(event: CloudEvent): Stamp {
  return { t: parseTime(event.time), id: event.id, src: event.source };
}

export function dataOf<T>(event: CloudEvent): T {
  return event.data as unknown as T;
}
