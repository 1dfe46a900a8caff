import { FoldlineError } from '../../base/errors.js';
import { LiveConnection } from './liveConnection.js';
import type { LiveView } from './scenarios.js';
import type { EffectTracker, Subscription } from './tracker.js';

export interface SubscriberOptions {
  url: string;
  /** Sockets to open, spread round-robin over the customers. */
  count: number;
  customerIds: readonly string[];
  views: readonly LiveView[];
  /** Every first value reflects it (the catalog's token). */
  after: string;
  authorization?: string;
  timeoutMs: number;
  tracker: EffectTracker;
  /** Each push after a subscription's first value. */
  onPush: () => void;
  onError: (error: unknown) => void;
}

export interface Subscribers {
  /** The first socket watching the customer: its appends go there in WS mode. */
  socketOf(customerId: string): LiveConnection;
  close(): Promise<void>;
}

/** Sockets being opened at once. */
const connectConcurrency = 50;

/**
 * Opens the subscriber sockets, each subscribed to its customer's views, and resolves once
 * every subscription has its first value; later pushes go to the tracker.
 */
export async function openSubscribers(options: SubscriberOptions): Promise<Subscribers> {
  const connections: LiveConnection[] = [];
  const own = new Map<string, LiveConnection>();
  const connect = async (index: number): Promise<void> => {
    const customerId = options.customerIds[index % options.customerIds.length]!;
    const subscriptions = new Map<string, Subscription>(
      options.views.map((view) => [`${view}/${customerId}`, options.tracker.subscribe(`${view}/${customerId}`)]),
    );
    const unseen = new Set(subscriptions.keys());
    let allSeen!: () => void;
    const firstValues = new Promise<void>((resolve) => (allSeen = resolve));
    const connection = await LiveConnection.open(options.url, {
      timeoutMs: options.timeoutMs,
      ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
      onError: options.onError,
      onPush: (push) => {
        const target = `${push.view}/${push.key}`;
        const subscription = subscriptions.get(target);
        if (!subscription) return options.onError(new FoldlineError('unexpected_push', `push for ${target}`));
        if (unseen.delete(target)) {
          if (unseen.size === 0) allSeen();
          return;
        }
        options.onPush();
        options.tracker.pushed(subscription, push.at, push.token);
      },
    });
    connections.push(connection);
    if (!own.has(customerId)) own.set(customerId, connection);
    for (const view of options.views) connection.subscribe(view, customerId, options.after);
    await withTimeout(firstValues, options.timeoutMs, `no first value for ${customerId} within ${options.timeoutMs} ms`);
  };
  const close = async (): Promise<void> => void (await Promise.all(connections.map((c) => c.close())));
  try {
    for (let from = 0; from < options.count; from += connectConcurrency) {
      await Promise.all(Array.from({ length: Math.min(connectConcurrency, options.count - from) }, (_, i) => connect(from + i)));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { socketOf: (customerId) => own.get(customerId)!, close };
}

async function withTimeout(promise: Promise<void>, ms: number, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new FoldlineError('timeout', message)), ms)));
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
