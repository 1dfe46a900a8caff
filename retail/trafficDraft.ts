import type { RetailEventData, RetailEventType } from './catalogue.js';

/** A generated event before it gets its id and time. */
export interface DraftOf<T extends RetailEventType> {
  type: T;
  source: string;
  data: RetailEventData[T];
  /** UTC offset (minutes) of the clock that stamps it: store tills print local time. */
  offset: number;
}

export type Draft = { [T in RetailEventType]: DraftOf<T> }[RetailEventType];

export function draft<T extends RetailEventType>(type: T, source: string, data: RetailEventData[T], offset = 0): DraftOf<T> {
  return { type, source, data, offset };
}

/** The systems that emit Hello Retail events (`/hello-retail/pos/{store}` for store tills). */
export const sources = {
  web: '/hello-retail/web',
  app: '/hello-retail/app',
  cart: '/hello-retail/cart',
  catalog: '/hello-retail/catalog',
  staff: '/hello-retail/staff',
  pos: '/hello-retail/pos',
} as const;
