import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Frontier } from '../crdt/index.js';
import type { ViewValue } from '../joiner/types.js';
import type { CloudEvent, Ledger } from '../ledger/types.js';

/**
 * Checks a whole batch of decoded request values before anything is appended: returns the
 * events, or throws a FoldlineError naming the bad event's `index` and JSON `path`. The
 * domain supplies it; the gateway knows no event types.
 */
export type ValidateEvents = (values: unknown[]) => CloudEvent[];

/** What the gateway reads views through (the joiner's ViewEngine satisfies it). */
export interface GatewayViews {
  /** Never an older value than `after`: throws 503 `not_caught_up` after `waitMs` instead. */
  read(view: string, key: string, options: { after?: Frontier; waitMs?: number }): Promise<ViewValue>;
  /** Everything folded so far. */
  frontier(): Frontier;
}

export interface GatewayLimits {
  /** Largest request body accepted; past it, 413 `body_too_large`. */
  maxBodyBytes: number;
  /** Most events in one batch; past it, 413 `batch_too_large`. */
  maxBatch: number;
  /** Longest `wait` a view read may ask for; longer ones are cut to it. */
  maxWaitMs: number;
  /** The `wait` of a read with `after` and no `wait`. */
  defaultWaitMs: number;
}

export const defaultLimits: GatewayLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxBatch: 10_000,
  maxWaitMs: 30_000,
  defaultWaitMs: 5_000,
};

export interface GatewayOptions {
  ledger: Ledger;
  validate: ValidateEvents;
  views: GatewayViews;
  host: string;
  /** 0 picks a free port. */
  port: number;
  limits?: Partial<GatewayLimits>;
  logger: Logger;
  /** The gateway registers its metrics and the default process metrics here: one registry per gateway. */
  registry: Registry;
}

export interface Gateway {
  /** The port it listens on (the chosen one when asked for 0). */
  port: number;
  close(): Promise<void>;
}
