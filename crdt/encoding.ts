import { Packr } from 'msgpackr';
import { dict } from './canonical.js';

/*
 * The compact persistent form of CRDT state: MessagePack. Objects travel as MessagePack
 * maps built from JS Maps, never as JS objects, because msgpackr renames a `__proto__`
 * key on the way back; decoding rebuilds prototype-free objects so that hostile keys
 * stay data.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });

export function encodeState(value: unknown): Uint8Array {
  return packr.pack(toWire(value));
}

export function decodeState<T = unknown>(bytes: Uint8Array): T {
  return fromWire(packr.unpack(bytes)) as T;
}

function toWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toWire);
  if (value === null || typeof value !== 'object') return value;
  const map = new Map<string, unknown>();
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) map.set(key, toWire(member));
  }
  return map;
}

function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (!(value instanceof Map)) return value;
  const object = dict<unknown>();
  for (const [key, member] of value) object[String(key)] = fromWire(member);
  return object;
}
