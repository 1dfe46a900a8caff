import type { CloudEvent } from './types.js';

/*
 * A block is the stored form of consecutive records of one shard: the UTF-8 JSON text of an
 * array of events. JSON carries every event faithfully (a `__proto__` key, a lone
 * surrogate), V8 writes and reads it natively, faster here than any MessagePack codec in
 * JavaScript, and the strings it decodes are flat copies: one a fold keeps in an entity
 * state keeps nothing of its block alive.
 */

const comma = 0x2c;

/**
 * The block of these events. With `texts` (see Ledger.append: the JSON each event was parsed
 * from) the block is those texts joined into an array, which costs a copy, not a serialization.
 */
export function encodeBlock(events: readonly CloudEvent[], texts?: readonly Uint8Array[]): Buffer {
  if (!texts) return Buffer.from(JSON.stringify(events));
  // Brackets, a comma between texts, the texts.
  let length = 2 + Math.max(0, texts.length - 1);
  for (const text of texts) length += text.length;
  const block = Buffer.allocUnsafe(length);
  let at = 0;
  block[at++] = 0x5b;
  texts.forEach((text, i) => {
    if (i > 0) block[at++] = comma;
    block.set(text, at);
    at += text.length;
  });
  block[at] = 0x5d;
  return block;
}

export function decodeBlock(block: string | Buffer): CloudEvent[] {
  return JSON.parse(typeof block === 'string' ? block : block.toString('utf8')) as CloudEvent[];
}
