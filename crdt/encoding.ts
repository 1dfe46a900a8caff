import { dict, fastDict } from './canonical.js';

/*
 * The compact persistent form of CRDT state: MessagePack of JSON-like values, written and
 * read here directly. A general MessagePack library would need a copy of every state
 * built of Maps first (msgpackr renames a `__proto__` key of a plain object), and the
 * state of every entity a batch touches is encoded at each commit. Decoding builds
 * prototype-free objects, so hostile keys stay data. Object members that are `undefined`
 * are left out, as JSON does; strings are UTF-8 (a lone surrogate becomes U+FFFD).
 */

let out = Buffer.allocUnsafe(64 * 1024);
let pos = 0;

export function encodeState(value: unknown): Buffer {
  pos = 0;
  writeValue(value);
  const bytes = Buffer.allocUnsafe(pos);
  out.copy(bytes, 0, 0, pos);
  return bytes;
}

/**
 * A value already in this encoding (encodeState's output), written as it is: a state handed
 * from one thread to a store without being decoded and encoded again.
 */
export class EncodedValue {
  constructor(readonly bytes: Uint8Array) {}
}

export function decodeState<T = unknown>(bytes: Uint8Array): T {
  const reader = new Reader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const value = reader.value();
  if (reader.pos !== reader.bytes.length) throw new TypeError(`state encoding: ${reader.bytes.length - reader.pos} bytes after the value`);
  return value as T;
}

function reserve(bytes: number): void {
  if (pos + bytes <= out.length) return;
  const grown = Buffer.allocUnsafe(Math.max(out.length * 2, pos + bytes));
  out.copy(grown, 0, 0, pos);
  out = grown;
}

function writeValue(value: unknown): void {
  switch (typeof value) {
    case 'string':
      return writeString(value);
    case 'number':
      return writeNumber(value);
    case 'boolean':
      reserve(1);
      out[pos++] = value ? 0xc3 : 0xc2;
      return;
    case 'object':
      if (value === null) break;
      if (value instanceof EncodedValue) return writeEncoded(value.bytes);
      return Array.isArray(value) ? writeArray(value) : writeObject(value as Record<string, unknown>);
    case 'undefined':
      break;
    default:
      throw new TypeError(`state encoding: a ${typeof value} is not JSON-like data`);
  }
  reserve(1);
  out[pos++] = 0xc0;
}

function writeEncoded(bytes: Uint8Array): void {
  reserve(bytes.length);
  out.set(bytes, pos);
  pos += bytes.length;
}

function writeNumber(n: number): void {
  reserve(9);
  if (Number.isInteger(n) && n >= -0x80000000 && n <= 0xffffffff) {
    if (n >= 0) {
      if (n < 0x80) out[pos++] = n;
      else if (n < 0x100) (out[pos++] = 0xcc), (out[pos++] = n);
      else if (n < 0x10000) (out[pos++] = 0xcd), out.writeUInt16BE(n, pos), (pos += 2);
      else (out[pos++] = 0xce), out.writeUInt32BE(n, pos), (pos += 4);
    } else if (n >= -32) out[pos++] = n & 0xff;
    else if (n >= -0x80) (out[pos++] = 0xd0), out.writeInt8(n, pos), (pos += 1);
    else if (n >= -0x8000) (out[pos++] = 0xd1), out.writeInt16BE(n, pos), (pos += 2);
    else (out[pos++] = 0xd2), out.writeInt32BE(n, pos), (pos += 4);
    return;
  }
  out[pos++] = 0xcb;
  out.writeDoubleBE(n, pos);
  pos += 8;
}

function writeString(text: string): void {
  const length = text.length;
  // Most text here (ids, keys, times) is short ASCII: copy it without a byte count first.
  if (length < 256) {
    const header = length < 32 ? 1 : 2;
    reserve(header + length);
    let at = pos + header;
    let i = 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      out[at++] = code;
    }
    if (i === length) {
      if (header === 1) out[pos] = 0xa0 | length;
      else (out[pos] = 0xd9), (out[pos + 1] = length);
      pos = at;
      return;
    }
  }
  const bytes = Buffer.byteLength(text);
  reserve(5 + bytes);
  if (bytes < 32) out[pos++] = 0xa0 | bytes;
  else if (bytes < 0x100) (out[pos++] = 0xd9), (out[pos++] = bytes);
  else if (bytes < 0x10000) (out[pos++] = 0xda), out.writeUInt16BE(bytes, pos), (pos += 2);
  else (out[pos++] = 0xdb), out.writeUInt32BE(bytes, pos), (pos += 4);
  pos += out.write(text, pos, bytes, 'utf8');
}

function writeArray(array: readonly unknown[]): void {
  writeLength(array.length, 0x90, 0xdc);
  for (let i = 0; i < array.length; i++) writeValue(array[i]);
}

function writeObject(object: Record<string, unknown>): void {
  // One pass over the keys: the header is written after the members, as a fixmap when
  // they are few (nearly always), else the members move up to make room for a wider one.
  reserve(1);
  const header = pos++;
  let members = 0;
  for (const key in object) {
    const member = object[key];
    if (member === undefined) continue;
    members++;
    writeString(key);
    writeValue(member);
  }
  if (members < 16) {
    out[header] = 0x80 | members;
    return;
  }
  const wide = members < 0x10000 ? 3 : 5;
  reserve(wide - 1);
  out.copyWithin(header + wide, header + 1, pos);
  pos += wide - 1;
  if (wide === 3) (out[header] = 0xde), out.writeUInt16BE(members, header + 1);
  else (out[header] = 0xdf), out.writeUInt32BE(members, header + 1);
}

/** A map or array header: `fix` holds up to 15 items in its low bits, `wide` is the 16-bit form (+1 the 32-bit). */
function writeLength(length: number, fix: number, wide: number): void {
  reserve(5);
  if (length < 16) out[pos++] = fix | length;
  else if (length < 0x10000) (out[pos++] = wide), out.writeUInt16BE(length, pos), (pos += 2);
  else (out[pos++] = wide + 1), out.writeUInt32BE(length, pos), (pos += 4);
}

/**
 * Decoded objects of up to this many members are fast-mode dictionaries (`fastDict`):
 * records, stamps and counters then read and encode at the speed of objects a fold built.
 * Larger ones are plain dictionaries, as V8 would make them anyway.
 */
const fastObjectMembers = 8;
/** Strings up to this many bytes are read without Buffer's decoder when they are ASCII. */
const shortText = 24;

class Reader {
  pos = 0;
  constructor(readonly bytes: Buffer) {}

  value(): unknown {
    const bytes = this.bytes;
    if (this.pos >= bytes.length) throw new TypeError('state encoding: truncated');
    const type = bytes[this.pos++]!;
    if (type < 0x80) return type;
    if (type < 0x90) return this.object(type & 0x0f);
    if (type < 0xa0) return this.array(type & 0x0f);
    if (type < 0xc0) return this.string(type & 0x1f);
    if (type >= 0xe0) return type - 0x100;
    switch (type) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return this.advance(4, bytes.readFloatBE(this.pos));
      case 0xcb:
        return this.advance(8, bytes.readDoubleBE(this.pos));
      case 0xcc:
        return this.advance(1, bytes.readUInt8(this.pos));
      case 0xcd:
        return this.advance(2, bytes.readUInt16BE(this.pos));
      case 0xce:
        return this.advance(4, bytes.readUInt32BE(this.pos));
      case 0xcf:
        return this.advance(8, Number(bytes.readBigUInt64BE(this.pos)));
      case 0xd0:
        return this.advance(1, bytes.readInt8(this.pos));
      case 0xd1:
        return this.advance(2, bytes.readInt16BE(this.pos));
      case 0xd2:
        return this.advance(4, bytes.readInt32BE(this.pos));
      case 0xd3:
        return this.advance(8, Number(bytes.readBigInt64BE(this.pos)));
      case 0xd9:
        return this.string(this.advance(1, bytes.readUInt8(this.pos)));
      case 0xda:
        return this.string(this.advance(2, bytes.readUInt16BE(this.pos)));
      case 0xdb:
        return this.string(this.advance(4, bytes.readUInt32BE(this.pos)));
      case 0xdc:
        return this.array(this.advance(2, bytes.readUInt16BE(this.pos)));
      case 0xdd:
        return this.array(this.advance(4, bytes.readUInt32BE(this.pos)));
      case 0xde:
        return this.object(this.advance(2, bytes.readUInt16BE(this.pos)));
      case 0xdf:
        return this.object(this.advance(4, bytes.readUInt32BE(this.pos)));
      default:
        throw new TypeError(`state encoding: MessagePack type 0x${type.toString(16)} is not JSON-like data`);
    }
  }

  /** Moves past a fixed-size field (reads throw a RangeError past the end); returns its value. */
  private advance<T>(size: number, value: T): T {
    this.pos += size;
    return value;
  }

  private string(length: number): string {
    const bytes = this.bytes;
    const start = this.pos;
    const end = start + length;
    if (end > bytes.length) throw new TypeError('state encoding: truncated');
    this.pos = end;
    // Most text here (keys, ids, skus, times) is short ASCII: a call into Buffer's UTF-8
    // decoder per string would cost more than reading its few bytes here.
    if (length <= shortText) {
      let text = '';
      for (let i = start; i < end; i++) {
        const byte = bytes[i]!;
        if (byte >= 0x80) return bytes.toString('utf8', start, end);
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return bytes.toString('utf8', start, end);
  }

  private array(length: number): unknown[] {
    const array = new Array<unknown>(length);
    for (let i = 0; i < length; i++) array[i] = this.value();
    return array;
  }

  private object(members: number): Record<string, unknown> {
    const object = members <= fastObjectMembers ? fastDict<unknown>() : dict<unknown>();
    for (let i = 0; i < members; i++) {
      const key = this.value();
      object[String(key)] = this.value();
    }
    return object;
  }
}
