import type { CloudEvent } from './types.js';

/*
 * A block is the stored form of consecutive records of one shard: the UTF-8 JSON text of an
 * array of events. JSON carries every event faithfully (a `__proto__` key, a lone
 * surrogate), V8 writes and reads it natively, faster here than any MessagePack codec in
 * JavaScript, and the strings it decodes are flat copies: one a fold keeps in an entity
 * state keeps nothing of its block alive.
 */

const openBracket = 0x5b;
const comma = 0x2c;
const closeBracket = 0x5d;

export function encodeBlock(events: readonly CloudEvent[]): Buffer {
  return Buffer.from(JSON.stringify(events));
}

/**
 * The block of events given as the JSON texts they were parsed from (see Ledger.append):
 * the texts joined into an array, which costs a copy, not a serialization.
 */
export function joinBlock(texts: readonly Uint8Array[]): Buffer {
  // Brackets, a comma between texts, the texts.
  let length = 2 + Math.max(0, texts.length - 1);
  for (const text of texts) length += text.length;
  const block = Buffer.allocUnsafe(length);
  let at = 0;
  block[at++] = openBracket;
  texts.forEach((text, i) => {
    if (i > 0) block[at++] = comma;
    block.set(text, at);
    at += text.length;
  });
  block[at] = closeBracket;
  return block;
}

export function decodeBlock(block: string | Uint8Array): CloudEvent[] {
  const text = typeof block === 'string' ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf8');
  return JSON.parse(text) as CloudEvent[];
}
