import { FoldlineError } from './errors.js';

/*
 * Binary keys for LMDB whose byte order is the order of their string tuples, component by
 * component, in plain JavaScript string order (UTF-16 code units, which UTF-8 bytes do not
 * follow). Each component is UTF-16BE with every 0x00 byte escaped as 00 FF and ends with
 * 00 01, so a component sorts before its extensions and any string (`__proto__`, control
 * characters) is data.
 */
/** LMDB's largest key, as lmdb-js builds it. */
const maxKeyBytes = 1978;
/** Written into, then copied out: every state read and commit builds keys. */
let scratch = Buffer.allocUnsafe(4096);

export function tupleKey(components: readonly string[]): Buffer {
  let size = 0;
  // At most four bytes per code unit (both escaped), two per terminator.
  for (const component of components) size += component.length * 4 + 2;
  if (size > scratch.length) scratch = Buffer.allocUnsafe(size);
  let at = 0;
  for (const component of components) {
    for (let i = 0; i < component.length; i++) {
      const unit = component.charCodeAt(i);
      at = writeEscaped(at, unit >> 8);
      at = writeEscaped(at, unit & 0xff);
    }
    scratch[at++] = 0x00;
    scratch[at++] = 0x01;
  }
  if (at > maxKeyBytes) {
    throw new FoldlineError('key_too_long', `a stored key may take ${maxKeyBytes} bytes, this one takes ${at}`);
  }
  return Buffer.from(scratch.subarray(0, at));
}

function writeEscaped(at: number, byte: number): number {
  if (byte === 0) {
    scratch[at] = 0x00;
    scratch[at + 1] = 0xff;
    return at + 2;
  }
  scratch[at] = byte;
  return at + 1;
}

export function decodeTupleKey(key: Uint8Array): string[] {
  const components: string[] = [];
  let units: number[] = [];
  let high: number | undefined;
  for (let i = 0; i < key.length; i++) {
    let byte = key[i]!;
    if (byte === 0x00) {
      if (key[++i] === 0x01) {
        components.push(String.fromCharCode(...units));
        units = [];
        continue;
      }
      byte = 0;
    }
    if (high === undefined) high = byte;
    else {
      units.push((high << 8) | byte);
      high = undefined;
    }
  }
  return components;
}

/** The key range of every tuple that starts with `prefix`: [start, end). */
export function prefixRange(prefix: readonly string[]): { start: Buffer; end: Buffer } {
  const start = tupleKey(prefix);
  const end = Buffer.from(start);
  // The prefix ends with a terminator (00 01); 00 02 is above every continuation.
  end[end.length - 1] = 0x02;
  return { start, end };
}
