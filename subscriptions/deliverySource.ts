import { traceOf } from '../base/traceparent.js';
import type { Frontier } from '../crdt/index.js';
import type { CloudEvent } from '../ledger/types.js';

/** One POST a subscription owes: a CloudEvent's JSON text and what orders and names it. */
export interface Deliverable {
  /** Deliverables of one key go out in order; different keys concurrently. */
  key: string;
  /** Where it is, as a dead letter records it: `stream/shard` and seq, or `view` and change seq. */
  position: string;
  seq: string;
  /** The CloudEvent's id, for the receiver's dedup. */
  id: string;
  traceparent: string | undefined;
  /** The CloudEvent as JSON, its UTF-8 bytes made once for every attempt: the body, signed as it is. */
  body: Buffer;
}

/** A round of deliveries and the checkpoint that stands once they are all delivered or dead. */
export interface DeliveryRound {
  items: Deliverable[];
  next: Frontier;
}

/** What a subscription delivers from, read past its checkpoint: the ledger's events, or views' changes. */
export interface DeliverySource {
  /** The checkpoint of a new subscription: at what comes from now on, or at the oldest there is. */
  start(from: 'now' | 'start'): Promise<Frontier>;
  /**
   * The next round past `checkpoint`, or undefined when there is nothing past it. A round's
   * `next` covers all it read, even when none of it is for this subscription (no items).
   */
  round(checkpoint: Frontier, limit: number): Promise<DeliveryRound | undefined>;
  /** Resolves once something past `checkpoint` may be there, or `signal` aborted. */
  waitForMore(checkpoint: Frontier, signal: AbortSignal): Promise<void>;
  /** How many items past `checkpoint` are not delivered yet (`head`: the ledger's head). */
  lag(checkpoint: Frontier, head: Frontier): number;
}

/** The key whose deliveries go in order: a subject within its position (a ledger shard holds each key; a view, its own keys). */
export function deliveryKey(position: string, subject: string): string {
  return `${position}\u0000${subject}`;
}

/** A CloudEvent at a position as a delivery: a ledger record's, or a dead letter's, delivered again. */
export function eventDeliverable(event: CloudEvent, position: string, seq: string): Deliverable {
  return { key: deliveryKey(position, event.subject), position, seq, id: event.id, traceparent: traceOf(event), body: Buffer.from(JSON.stringify(event)) };
}
