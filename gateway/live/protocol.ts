import { FoldlineError } from '../../base/errors.js';
import { mergeFrontiers, type Frontier } from '../../crdt/index.js';
import { decodeToken } from '../../ledger/token.js';
import { parseAwaitTargets, type AwaitTarget } from '../append.js';
import { checkBatchSize } from '../http/cloudevents.js';

/*
 * The JSON text frames of `/v1/live` (docs/websocket.md). Client frames are parsed here into
 * typed requests, or refused with a 400 FoldlineError that the connection sends back as an
 * error frame (with the frame's `ref` when it had a usable one).
 */

/** Echoed back on the answers to a frame: a short string or a number. */
export type Ref = string | number;

export type ClientFrame =
  | { op: 'subscribe'; view: string; key: string; after?: Frontier; ref?: Ref }
  | { op: 'unsubscribe'; view: string; key: string; ref?: Ref }
  | { op: 'append'; events: unknown[]; await: AwaitTarget[]; wait?: number; traceparent?: string; ref?: Ref };

/** A refused frame and the `ref` to answer it with. */
export class FrameError extends Error {
  constructor(
    readonly error: FoldlineError,
    readonly ref: Ref | undefined,
  ) {
    super(error.message);
  }
}

const maxRefLength = 128;
const maxAfterTokens = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseClientFrame(message: ArrayBuffer, isBinary: boolean, maxBatch: number): ClientFrame {
  if (isBinary) throw new FrameError(bad('binary_frame', 'frames must be JSON text, not binary'), undefined);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(message));
  } catch {
    throw new FrameError(bad('malformed_json', 'the frame is not JSON'), undefined);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrameError(bad('bad_frame', 'a frame must be a JSON object'), undefined);
  const frame = value as Record<string, unknown>;
  const ref = refOf(frame.ref);
  try {
    return { ...parseOp(frame, maxBatch), ...(ref === undefined ? {} : { ref }) };
  } catch (error) {
    throw new FrameError(error instanceof FoldlineError ? error : bad('bad_frame', 'unreadable frame'), ref);
  }
}

function parseOp(frame: Record<string, unknown>, maxBatch: number): ClientFrame {
  switch (frame.op) {
    case 'subscribe': {
      const after = frame.after === undefined ? undefined : afterOf(frame.after);
      return { op: 'subscribe', view: text(frame, 'view'), key: text(frame, 'key'), ...(after ? { after } : {}) };
    }
    case 'unsubscribe':
      return { op: 'unsubscribe', view: text(frame, 'view'), key: text(frame, 'key') };
    case 'append': {
      if (!Array.isArray(frame.events)) throw bad('bad_frame', 'events must be an array of CloudEvents', '/events');
      checkBatchSize(frame.events.length, maxBatch);
      const awaited = frame.await === undefined ? [] : parseAwaitTargets(Array.isArray(frame.await) ? frame.await : [frame.await]);
      const wait = frame.wait;
      if (wait !== undefined && (!Number.isSafeInteger(wait) || (wait as number) < 0)) throw bad('bad_wait', 'wait must be a whole number of milliseconds', '/wait');
      const { traceparent } = frame;
      if (traceparent !== undefined && typeof traceparent !== 'string') throw bad('bad_frame', 'traceparent must be a string (a W3C traceparent)', '/traceparent');
      return { op: 'append', events: frame.events, await: awaited, ...(wait === undefined ? {} : { wait: wait as number }), ...(traceparent === undefined ? {} : { traceparent }) };
    }
    default:
      throw bad('unknown_op', `unknown op ${JSON.stringify(String(frame.op).slice(0, 32))}; expected subscribe, unsubscribe or append`, '/op');
  }
}

/** A usable ref, or undefined (a bad ref is dropped rather than echoed). */
function refOf(ref: unknown): Ref | undefined {
  if (typeof ref === 'string' && ref.length <= maxRefLength) return ref;
  if (typeof ref === 'number' && Number.isFinite(ref)) return ref;
  return undefined;
}

function text(frame: Record<string, unknown>, name: string): string {
  const value = frame[name];
  if (typeof value !== 'string' || value === '') throw bad('bad_frame', `${name} must be a non-empty string`, `/${name}`);
  return value;
}

/** One token or an array of them, merged. */
function afterOf(after: unknown): Frontier {
  const tokens = Array.isArray(after) ? after : [after];
  if (tokens.length === 0 || tokens.length > maxAfterTokens || !tokens.every((token) => typeof token === 'string')) {
    throw bad('bad_token', `after must be a token or an array of 1 to ${maxAfterTokens} tokens`, '/after');
  }
  return mergeFrontiers(...tokens.map((token: string) => decodeToken(token)));
}

function bad(code: string, message: string, path?: string): FoldlineError {
  return new FoldlineError(code, message, { ...(path === undefined ? {} : { path }) });
}
