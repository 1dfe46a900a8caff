import type { CloudEvent } from './types.js';

/*
 * A block is the stored form of consecutive records of one shard: the JSON text of an
 * array of events. JSON carries every event faithfully (a `__proto__` key, a lone
 * surrogate), V8 writes and reads it natively, faster here than any MessagePack codec in
 * JavaScript, and the strings it decodes are flat copies: one a fold keeps in an entity
 * state keeps nothing of its block alive.
 */

export function encodeBlock(events: readonly CloudEvent[]): string {
  return JSON.stringify(events);
}

export function decodeBlock(text: string): CloudEvent[] {
  return JSON.parse(text) as CloudEvent[];
}
