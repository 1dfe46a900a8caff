import { FoldlineError } from '../base/errors.js';
import type { Frontier } from '../crdt/index.js';
import { encodeToken } from '../ledger/token.js';
import type { AppendResult, CloudEvent, Ledger, Receipt } from '../ledger/types.js';
import type { AccessGuard } from './auth/guard.js';
import type { DecodedEvents } from './http/cloudevents.js';
import type { GatewayMetrics } from './metrics.js';
import type { GatewayLimits, GatewayViews, Principal, ValidateEvents } from './types.js';

/** A view key a write-through append waits for. */
export interface AwaitTarget {
  view: string;
  key: string;
}

export interface Appended {
  receipts: Receipt[];
  token: string;
  /** With `await`: each named view's value, reflecting the append. */
  views?: Array<{ view: string; key: string; token: string; value: unknown }>;
}

/**
 * A write-through append whose views did not catch up in time: 503 `not_caught_up`, but the
 * events ARE durable, so the answer carries their receipts and token too.
 */
export class WriteThroughTimeout extends FoldlineError {
  constructor(
    readonly appended: Appended,
    cause: FoldlineError,
  ) {
    super('not_caught_up', `the append is durable (see receipts and token) but the awaited views did not reflect it in time: ${cause.message}`, { cause,
    });
  }
}

const maxAwaitTargets = 16;

/**
 * The one append path of HTTP and WebSocket: validates the whole batch, checks access,
 * appends, and with `await` waits until the named views reflect the append.
 */
export class Appender {
  constructor(
    private readonly deps: {
      ledger: Ledger;
      validate: ValidateEvents;
      views: GatewayViews;
      guard: AccessGuard;
      metrics: GatewayMetrics;
      limits: GatewayLimits;
    },
  ) {}

  /*
   * Not an async function: one keeps its arguments alive until it returns, and the batch's
   * events would then live until its commit is durable instead of dying once appended.
   */
  append({ values, texts }: DecodedEvents, principal: Principal | undefined, awaited: readonly AwaitTarget[] = [], waitMs?: number): Promise<Appended> {
    const { ledger, validate, guard, metrics } = this.deps;
    let appending: Promise<AppendResult>;
    try {
      const events = validated(validate, values);
      guard.checkAppend(principal, events);
      this.checkAwaited(principal, awaited);
      appending = ledger.append(events, texts && areTheValues(events, values) ? texts : undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    return appending.then(({ receipts, head }) => {
      metrics.countAppended(receipts);
      const appended: Appended = { receipts, token: encodeToken(head) };
      return awaited.length === 0 ? appended : this.writeThrough(appended, head, awaited, waitMs);
    });
  }

  /** Checked before appending: a refused await must not leave a half-done request behind. */
  private checkAwaited(principal: Principal | undefined, awaited: readonly AwaitTarget[]): void {
    const { views, guard } = this.deps;
    if (awaited.length > maxAwaitTargets) throw badAwait(`at most ${maxAwaitTargets} views may be awaited`);
    for (const { view, key } of awaited) {
      try {
        views.checkViewKey(view, key);
      } catch (error) {
        // The same refusal, pointing at the parameter that named the view key.
        throw error instanceof FoldlineError ? new FoldlineError(error.code, error.message, { path: '/await' }) : error;
      }
      guard.checkRead(principal, view, key);
    }
  }

  /** The awaited views' values once they reflect the append, or 503 with its receipts. */
  private async writeThrough(appended: Appended, head: Frontier, awaited: readonly AwaitTarget[], waitMs: number | undefined): Promise<Appended> {
    const { views, limits } = this.deps;
    const wait = Math.min(waitMs ?? limits.defaultWaitMs, limits.maxWaitMs);
    try {
      const values = await Promise.all(awaited.map(({ view, key }) => views.read(view, key, { after: head, waitMs: wait })));
      return { ...appended, views: values.map((v) => ({ view: v.view, key: v.key, token: encodeToken(v.frontier), value: v.value })) };
    } catch (error) {
      if (error instanceof FoldlineError && error.code === 'not_caught_up') throw new WriteThroughTimeout(appended, error);
      throw error;
    }
  }
}

/**
 * Whether the validated events are the decoded values themselves, whose texts may then
 * stand for them. Not a closure in `append`: one would keep the batch alive with the append.
 */
function areTheValues(events: readonly unknown[], values: readonly unknown[]): boolean {
  if (events.length !== values.length) return false;
  for (let i = 0; i < events.length; i++) if (events[i] !== values[i]) return false;
  return true;
}

/** `await` values as `view/key`: split at the first `/`, the key may hold more. */
export function parseAwaitTargets(values: readonly unknown[]): AwaitTarget[] {
  return values.map((value) => {
    if (typeof value !== 'string') throw badAwait('await must name views as "view/key" strings');
    const slash = value.indexOf('/');
    if (slash <= 0 || slash === value.length - 1) throw badAwait(`await ${JSON.stringify(value.slice(0, 100))} must be "view/key"`);
    return { view: value.slice(0, slash), key: value.slice(slash + 1) };
  });
}

/** The domain's validation, its refusal's message naming the event as the answer's `index` does. */
function validated(validate: ValidateEvents, values: unknown[]): CloudEvent[] {
  try {
    return validate(values);
  } catch (error) {
    if (!(error instanceof FoldlineError) || error.index === undefined) throw error;
    throw new FoldlineError(error.code, `event ${error.index}: ${error.message}`, { index: error.index, ...(error.path === undefined ? {} : { path: error.path }) });
  }
}

function badAwait(message: string): FoldlineError {
  return new FoldlineError('bad_await', message, { path: '/await' });
}
