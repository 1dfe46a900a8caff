import { FoldlineError } from '../../ledger/errors.js';
import { WriteThroughTimeout } from '../append.js';

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
  return jsonAnswer(failure.status, errorBody(failure), failure.status === 401 ? { 'www-authenticate': 'Bearer' } : undefined);
}

/** `{error}`, and for a write-through that timed out, the receipts and token of its durable append. */
export function errorBody(failure: FoldlineError): Record<string, unknown> {
  if (failure instanceof WriteThroughTimeout) return { error: failure.toJSON(), receipts: failure.appended.receipts, token: failure.appended.token };
  return { error: failure.toJSON() };
}

/** The error as the client sees it: unexpected errors become a bare 500 `internal`. */
export function asFoldlineError(error: unknown): FoldlineError {
  if (error instanceof FoldlineError && error.status >= 400 && error.status <= 599) return error;
  return new FoldlineError('internal', 'internal error', { status: 500 });
}
