import { FoldlineError } from '../../base/errors.js';
import { mergeFrontiers, type Frontier } from '../../crdt/index.js';
import { decodeToken } from '../../ledger/token.js';
import type { GatewayLimits } from '../types.js';

export interface ReadQuery {
  /** What the value must reflect: every `after` token merged. */
  after?: Frontier;
  waitMs?: number;
}

/**
 * `after=TOKEN` (repeatable) and `wait=MS` of a view read. Without `wait`, a read with
 * `after` waits `defaultWaitMs`; any wait is cut to `maxWaitMs`. Other parameters are ignored.
 */
export function parseReadQuery(query: string, limits: Pick<GatewayLimits, 'maxWaitMs' | 'defaultWaitMs'>): ReadQuery {
  const params = new URLSearchParams(query);
  const tokens = params.getAll('after');
  const wait = parseWait(params.get('wait'));
  if (tokens.length === 0) return {};
  const waitMs = Math.min(wait ?? limits.defaultWaitMs, limits.maxWaitMs);
  return { after: mergeFrontiers(...tokens.map(decodeToken)), waitMs };
}

/** The `wait=MS` query parameter (null: absent); 400 `bad_wait` unless a whole number. */
export function parseWait(wait: string | null): number | undefined {
  if (wait === null) return undefined;
  if (!/^[0-9]{1,10}$/.test(wait)) {
    throw new FoldlineError('bad_wait', `wait must be a whole number of milliseconds, got ${JSON.stringify(wait.slice(0, 32))}`);
  }
  return Number(wait);
}
