import { mergeFrontiers, type Frontier } from '../../crdt/index.js';
import { FoldlineError } from '../../ledger/errors.js';
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
  const wait = params.get('wait');
  if (wait !== null && !/^[0-9]{1,10}$/.test(wait)) {
    throw new FoldlineError('bad_wait', `wait must be a whole number of milliseconds, got ${JSON.stringify(wait.slice(0, 32))}`, { status: 400 });
  }
  if (tokens.length === 0) return {};
  const waitMs = Math.min(wait === null ? limits.defaultWaitMs : Number(wait), limits.maxWaitMs);
  return { after: mergeFrontiers(...tokens.map(decodeToken)), waitMs };
}
