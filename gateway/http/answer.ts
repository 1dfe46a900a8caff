import { FoldlineError } from '../../base/errors.js';
import { WriteThroughTimeout } from '../append.js';
import { statusOf } from './errorStatus.js';

/** A complete HTTP answer, built by handlers and written by the exchange. */
export interface Answer {
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Readonly<Record<string, string>>;
  /** Close the connection after answering (the client may still be sending a body we refuse). */
  close?: boolean;
  /** Answer a HEAD: the headers of `body` (its content-length too), not the body itself. */
  headOnly?: boolean;
  /**
   * A streamed answer (Server-Sent Events, NDJSON): `body` is its first chunk, and `stream`
   * gets the sink that writes the rest, until it ends it or the client goes away.
   */
  stream?: (sink: StreamSink) => void;
}

/** The rest of a streamed answer. */
export interface StreamSink {
  /** Writes a chunk; false once the client is not keeping up (the chunk is buffered): wait for `writable`. */
  write(chunk: string): boolean;
  /** Resolves once the buffered chunks are sent, or the client went away. */
  writable(): Promise<void>;
  /** Whether the client is still there and the stream not ended. */
  readonly open: boolean;
  end(): void;
  /** Called once when the client goes away (not after `end`). */
  onClose(listener: () => void): void;
}

export const jsonType = 'application/json; charset=utf-8';

export function jsonAnswer(status: number, value: unknown, headers?: Record<string, string>): Answer {
  return { status, contentType: jsonType, body: JSON.stringify(value), ...(headers ? { headers } : {}) };
}

export function textAnswer(status: number, body: string, contentType: string): Answer {
  return { status, contentType, body };
}

/** `{error:{code,message,index?,path?}}` with the error's status; anything else is a 500 that says nothing of its cause. */
export function errorAnswer(error: unknown): Answer {
  const failure = asFoldlineError(error);
  const status = statusOf(failure);
  return jsonAnswer(status, errorBody(failure), status === 401 ? { 'www-authenticate': 'Bearer' } : undefined);
}

/** `{error}`, and for a write-through that timed out, the receipts and token of its durable append. */
export function errorBody(failure: FoldlineError): Record<string, unknown> {
  if (failure instanceof WriteThroughTimeout) return { error: failure.toJSON(), receipts: failure.appended.receipts, token: failure.appended.token };
  return { error: failure.toJSON() };
}

/** The error as the client sees it: anything but a FoldlineError becomes a bare `internal` that says nothing of its cause. */
export function asFoldlineError(error: unknown): FoldlineError {
  return error instanceof FoldlineError ? error : new FoldlineError('internal', 'internal error');
}
