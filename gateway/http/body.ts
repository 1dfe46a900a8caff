import type { HttpResponse } from 'uwebsockets';
import { FoldlineError } from '../../base/errors.js';
import { errorAnswer } from './answer.js';
import type { Exchange } from './exchange.js';

/**
 * Reads a request body of at most `maxBytes`. Must be called in the synchronous part of the
 * route handler (uWebSockets.js delivers chunks only to a handler registered there). Past
 * the limit, announced by content-length or reached while streaming, it stops reading,
 * answers 413 `body_too_large` at once and closes the connection, so a client sending a
 * huge body is not read to its end; the promise then rejects with that error.
 */
export function readBody(res: HttpResponse, exchange: Exchange, contentLength: string | undefined, maxBytes: number): Promise<Buffer> {
  const body = new Promise<Buffer>((resolve, reject) => {
    const tooLarge = (): void => {
      const error = new FoldlineError('body_too_large', `the request body is larger than ${maxBytes} bytes`);
      exchange.answer({ ...errorAnswer(error), close: true });
      reject(error);
    };
    if (contentLength !== undefined && /^[0-9]+$/.test(contentLength) && Number(contentLength) > maxBytes) {
      tooLarge();
      return;
    }
    exchange.onAbort(() => reject(new FoldlineError('aborted', 'the client went away')));
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      // Answered without the body (a 415): the rest is dropped unread.
      if (!exchange.open) done = true;
      if (done) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        done = true;
        tooLarge();
        return;
      }
      // uWebSockets.js neuters the chunk when this callback returns: copy it.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        done = true;
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      }
    });
  });
  // A handler may answer without awaiting the body (415): its rejection must not go unhandled.
  body.catch(() => {});
  return body;
}
