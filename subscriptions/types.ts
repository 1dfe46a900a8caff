import type { Frontier } from '../crdt/index.js';
import type { CloudEvent } from '../ledger/types.js';

/** A webhook subscription as it is asked for and stored (its secret never leaves the service again). */
export interface SubscriptionSpec {
  /** Lower-case letters, digits and dashes: names it in the API, the CLI, metrics and the store. */
  name: string;
  /** Where deliveries are POSTed (http or https). */
  url: string;
  /** The HMAC-SHA256 key of the `foldline-signature` header. */
  secret: string;
  /** The event types delivered; absent (and no `views`): every type. */
  types?: string[];
  /** Views whose changes are delivered (as `foldline.view.changed` CloudEvents) instead of events. */
  views?: string[];
  /** ISO time it was added. */
  createdAt: string;
}

/** An event a subscription gave up on after its retries: kept until replayed. */
export interface DeadDelivery {
  subscription: string;
  /** `stream/shard` and seq of the event in the ledger (of a view change: the view and the change's seq). */
  position: string;
  seq: string;
  event: CloudEvent;
  attempts: number;
  /** The last failure: an HTTP status or a network error. */
  reason: string;
  /** ISO time it was given up on. */
  at: string;
}

/** A subscription as listed: its spec without the secret, and how it is doing. */
export interface SubscriptionStatus {
  name: string;
  url: string;
  types?: string[];
  views?: string[];
  createdAt: string;
  /** Records of its streams in the ledger past its checkpoint (or changes of its views not delivered). */
  lag: number;
  checkpoint: Frontier;
  deadLetters: number;
  delivered: number;
  failedAttempts: number;
}

export interface ReplayOutcome {
  name: string;
  /** Dead letters tried again. */
  replayed: number;
  /** Of those, delivered now (and no longer dead). */
  delivered: number;
  /** Of those, still failing: they stay dead letters. */
  stillDead: number;
}

/**
 * Where subscriptions, their checkpoints and their dead letters are kept. Each subscription's
 * checkpoint is its own: it moves only as its own deliveries finish.
 */
export interface SubscriptionStore {
  list(): Promise<SubscriptionSpec[]>;
  put(spec: SubscriptionSpec, checkpoint: Frontier): Promise<void>;
  /** Forgets the subscription, its checkpoint and its dead letters. */
  remove(name: string): Promise<void>;
  checkpoint(name: string): Promise<Frontier | undefined>;
  /** Moves the checkpoint and records the dead letters of the same deliveries, together. */
  advance(name: string, checkpoint: Frontier, dead: readonly DeadDelivery[]): Promise<void>;
  deadLetters(name: string): Promise<DeadDelivery[]>;
  /** Drops dead letters that were delivered on replay, and rewrites those that failed again. */
  settleDead(name: string, delivered: readonly DeadDelivery[], stillDead: readonly DeadDelivery[]): Promise<void>;
  close(): Promise<void>;
}
