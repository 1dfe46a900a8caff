import { Packr } from 'msgpackr';
import { Unpackr } from 'msgpackr/unpack-no-eval';
import type { CloudEvent } from './types.js';

/*
 * A block is the stored form of consecutive records of one shard: a MessagePack array of
 * events. Records (msgpackr's shared key lists) are defined inline once per block, so a
 * block of many same-shaped events decodes several times faster than one JSON text per
 * event. MessagePack cannot carry every JSON value faithfully (msgpackr renames a
 * `__proto__` key; UTF-8 cannot hold a lone surrogate), so such an event is stored as its
 * JSON text instead: a string element of the array. Events are objects, so a string is
 * never ambiguous.
 */
const packr = new Packr({ useRecords: true, moreTypes: false });
/**
 * Decodes with msgpackr's plain JavaScript reader, a module instance of its own. The default
 * one takes strings from the native extractor as slices of one string per block, and a fold
 * keeps some in entity states (a stamp's source, a product's name): each kept slice kept its
 * block's whole text alive (200,000 events folded held 54 MB of heap, 31 MB with flat
 * strings). It also compiles a reader per record shape per block, which gives events from
 * different blocks different hidden classes.
 */
const unpackr = new Unpackr({ useRecords: true, moreTypes: false });
const loneSurrogate = /\p{Cs}/u;
/**
 * Bytes that any unfaithfully packed event leaves in a block: the key `__proto__`, and
 * U+FFFD (EF BF BD), which msgpackr writes for a lone surrogate. Other text may contain
 * them too; such a block only takes the slower, exact path.
 */
const suspects = [Buffer.from('__proto__'), Buffer.from([0xef, 0xbf, 0xbd])];

export function encodeBlock(events: readonly CloudEvent[]): Buffer {
  const packed = packr.pack(events);
  if (!suspects.some((bytes) => packed.includes(bytes))) return packed;
  return packr.pack(events.map((event) => (packsFaithfully(event) ? event : JSON.stringify(event))));
}

export function decodeBlock(bytes: Uint8Array): CloudEvent[] {
  const elements = unpackr.unpack(bytes) as Array<CloudEvent | string>;
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i]!;
    if (typeof element === 'string') elements[i] = JSON.parse(element) as CloudEvent;
  }
  return elements as CloudEvent[];
}

function packsFaithfully(value: unknown): boolean {
  if (typeof value === 'string') return !loneSurrogate.test(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(packsFaithfully);
  for (const key in value) {
    if (key === '__proto__' || loneSurrogate.test(key) || !packsFaithfully((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}
