import { frontierHas, positionKey, type Frontier } from '../../crdt/index.js';
import { decodeToken } from '../../ledger/token.js';
import type { Receipt } from '../../ledger/types.js';

/** A view push as one subscription received it. */
interface Push {
  at: number;
  token: string;
  frontier?: Frontier;
}

/** An acknowledged append that one subscription has not yet been shown. */
interface Awaited {
  sentAt: number;
  positions: Array<[string, string]>;
}

/** Pushes kept per subscription while appends to it are unacknowledged: a guard against a stuck reply. */
const maxLoggedPushes = 1024;

/** One subscription (socket × view key): what it was pushed, what it still waits for. */
export class Subscription {
  /** Appends to its view key sent and not yet answered. */
  unacked = 0;
  /** Pushes received while some append is unanswered: the push may come before the receipt. */
  readonly log: Push[] = [];
  readonly awaited: Awaited[] = [];
}

/** A sent append: its view key's subscriptions, each shown it later. */
export interface Ticket {
  readonly sentAt: number;
  readonly subscriptions: readonly Subscription[];
}

/**
 * Effect after cause, measured: an append sent at `sentAt` is seen by a subscription at the
 * first push whose token reflects every receipt of the append. The latency (push received −
 * append sent) is recorded once per subscription of the appended view key.
 */
export class EffectTracker {
  private readonly byTarget = new Map<string, Subscription[]>();
  private awaitedCount = 0;
  timeouts = 0;

  constructor(private readonly record: (latencyMs: number) => void) {}

  subscribe(target: string): Subscription {
    const subscription = new Subscription();
    const list = this.byTarget.get(target) ?? [];
    list.push(subscription);
    this.byTarget.set(target, list);
    return subscription;
  }

  /** How many subscriptions an append to `target` must reach. */
  fanOut(target: string): number {
    return this.byTarget.get(target)?.length ?? 0;
  }

  sent(target: string, sentAt: number): Ticket {
    const subscriptions = this.byTarget.get(target) ?? [];
    for (const subscription of subscriptions) subscription.unacked++;
    return { sentAt, subscriptions };
  }

  acknowledged(ticket: Ticket, receipts: readonly Receipt[]): void {
    const positions = receipts.map((r): [string, string] => [positionKey(r.stream, r.shard), r.seq]);
    for (const subscription of ticket.subscriptions) {
      const seen = subscription.log.find((push) => push.at >= ticket.sentAt && reflects(push, positions));
      this.settle(subscription);
      if (seen) this.record(seen.at - ticket.sentAt);
      else {
        subscription.awaited.push({ sentAt: ticket.sentAt, positions });
        this.awaitedCount++;
      }
    }
  }

  /** The append failed: nothing to wait for. */
  failed(ticket: Ticket): void {
    for (const subscription of ticket.subscriptions) this.settle(subscription);
  }

  pushed(subscription: Subscription, at: number, token: string): void {
    const push: Push = { at, token };
    if (subscription.unacked > 0) {
      subscription.log.push(push);
      if (subscription.log.length > maxLoggedPushes) subscription.log.shift();
    }
    const { awaited } = subscription;
    for (let i = 0; i < awaited.length; ) {
      if (reflects(push, awaited[i]!.positions)) {
        this.record(at - awaited[i]!.sentAt);
        awaited.splice(i, 1);
        this.awaitedCount--;
      } else i++;
    }
  }

  /** Whether an append to `target` is unanswered or not yet shown to one of its subscriptions. */
  busy(target: string): boolean {
    return this.byTarget.get(target)?.some((s) => s.unacked > 0 || s.awaited.length > 0) ?? false;
  }

  /** Acknowledged appends some subscription has not been shown yet. */
  get outstanding(): number {
    return this.awaitedCount;
  }

  /** Gives up on appends sent before `sentBefore`, counting them as timeouts. */
  expire(sentBefore: number): void {
    for (const subscriptions of this.byTarget.values()) {
      for (const subscription of subscriptions) {
        const kept = subscription.awaited.filter((a) => a.sentAt >= sentBefore);
        const expired = subscription.awaited.length - kept.length;
        if (expired === 0) continue;
        subscription.awaited.splice(0, subscription.awaited.length, ...kept);
        this.timeouts += expired;
        this.awaitedCount -= expired;
      }
    }
  }

  private settle(subscription: Subscription): void {
    subscription.unacked--;
    if (subscription.unacked === 0) subscription.log.length = 0;
  }
}

function reflects(push: Push, positions: ReadonlyArray<[string, string]>): boolean {
  push.frontier ??= decodeToken(push.token);
  const { frontier } = push;
  return positions.every(([position, seq]) => frontierHas(frontier, position, seq));
}
