import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { FoldlineError } from '../base/errors.js';

/** Text decoded at once (and a gunzip's output chunk). */
const chunkBytes = 256 * 1024;

/**
 * Calls `visit` with each non-empty line of UTF-8 text, gzip'd or not, in order: the line
 * is `text.slice(start, stop)`, numbered from 1. The text is decoded (and gunzipped) a chunk
 * at a time, never all of it at once: a bare export's file may be far larger than memory
 * wants. A file that does not gunzip is a `bad_archive` error naming `where`, after the
 * lines before the damage.
 */
export async function forEachLine(bytes: Uint8Array, gzipped: boolean, where: string, visit: (text: string, start: number, stop: number, line: number) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let line = 0;
  const take = (chunk: string): void => {
    const text = carry + chunk;
    let at = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', at)) {
      line++;
      if (end > at) visit(text, at, end, line);
      at = end + 1;
    }
    carry = text.slice(at);
  };
  if (gzipped) {
    const gunzip = createGunzip({ chunkSize: chunkBytes });
    gunzip.end(bytes);
    const chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (error) {
          throw new FoldlineError('bad_archive', `${where}: cannot gunzip (${(error as Error).message}): truncated or not gzip`);
        }
        if (next.done) break;
        take(decoder.write(next.value));
      }
    } finally {
      gunzip.destroy();
    }
  } else {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < buffer.length; at += chunkBytes) take(decoder.write(buffer.subarray(at, at + chunkBytes)));
  }
  take(decoder.end());
  if (carry.length > 0) visit(carry, 0, carry.length, line + 1);
}
