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
