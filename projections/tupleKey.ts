import { FoldlineError } from '../ledger/errors.js';

/*
 * Binary keys for LMDB whose byte order is the order of their string tuples, component by
 * component, in plain JavaScript string order (UTF-16 code units, which UTF-8 bytes do not
 * follow). Each component is UTF-16BE with every 0x00 byte escaped as 00 FF and ends with
 * 00 01, so a component sorts before its extensions and any string (`__proto__`, control
 * characters) is data.
 */
const terminator = [0x00, 0x01];
/** LMDB's largest key, as lmdb-js builds it. */
const maxKeyBytes = 1978;

export function tupleKey(components: readonly string[]): Buffer {
  const bytes: number[] = [];
  for (const component of components) {
    for (let i = 0; i < component.length; i++) {
      const unit = component.charCodeAt(i);
      pushEscaped(bytes, unit >> 8);
      pushEscaped(bytes, unit & 0xff);
    }
    bytes.push(...terminator);
  }
  if (bytes.length > maxKeyBytes) {
    throw new FoldlineError('key_too_long', `a stored key may take ${maxKeyBytes} bytes, this one takes ${bytes.length}`, { status: 400 });
  }
  return Buffer.from(bytes);
}

function pushEscaped(bytes: number[], byte: number): void {
  if (byte === 0) bytes.push(0x00, 0xff);
  else bytes.push(byte);
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
