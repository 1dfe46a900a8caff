import { FoldlineError } from '../../base/errors.js';
import { arrayElements } from './arrayElements.js';
import { parseMediaType } from './mediaType.js';

/*
 * The three CloudEvents 1.0 HTTP modes (HTTP protocol binding v1.0.2): structured (one event
 * as `application/cloudevents+json`), batched (`application/cloudevents-batch+json`, a JSON
 * array) and binary (attributes in `ce-*` headers, the body is `data`). A plain
 * `application/json` body without `ce-specversion` is taken as structured, for clients that
 * cannot set the CloudEvents media type. Only UTF-8 JSON is accepted.
 */

export type EventsMode = 'structured' | 'batch' | 'binary';

export type RequestHeaders = ReadonlyMap<string, string>;

/** The mode of a request, from its headers alone (so a 415 needs no body); throws 415. */
export function eventsMode(headers: RequestHeaders): EventsMode {
  const contentType = headers.get('content-type');
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  if (contentType !== undefined && !media) throw unsupported(`malformed content-type ${JSON.stringify(contentType)}`);
  const charset = media?.params.get('charset')?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw unsupported(`charset ${JSON.stringify(charset)} is not supported; send UTF-8`);
  if (media?.essence === 'application/cloudevents+json') return 'structured';
  if (media?.essence === 'application/cloudevents-batch+json') return 'batch';
  if (headers.has('ce-specversion')) {
    // Binary mode: the content type is that of `data`, which must be JSON (absent means JSON).
    if (!media || isJson(media.essence)) return 'binary';
    throw unsupported(`binary-mode data must be JSON, not ${JSON.stringify(media.essence)}`);
  }
  if (media?.essence === 'application/json') return 'structured';
  throw unsupported(
    `expected application/cloudevents+json, application/cloudevents-batch+json or ce-* headers, got ${JSON.stringify(contentType ?? 'no content-type')}`,
  );
}

/** A request's events as decoded JSON values, not yet validated (the domain does that). */
export interface DecodedEvents {
  values: unknown[];
  /** A batch's: the JSON text of each value, as it came (see Ledger.append). */
  texts?: Uint8Array[];
}

export function decodeEvents(mode: EventsMode, headers: RequestHeaders, body: Buffer, maxBatch: number): DecodedEvents {
  switch (mode) {
    case 'structured':
      return { values: [parseJson(body)] };
    case 'batch': {
      const batch = parseJson(body);
      if (!Array.isArray(batch)) throw new FoldlineError('invalid_batch', 'a batch must be a JSON array of events');
      checkBatchSize(batch.length, maxBatch);
      const texts = arrayElements(body, batch.length);
      return texts ? { values: batch, texts } : { values: batch };
    }
    case 'binary':
      return { values: [binaryEvent(headers, body)] };
  }
}

/** 413 `batch_too_large` past `maxBatch` events (HTTP batches and WebSocket appends alike). */
export function checkBatchSize(length: number, maxBatch: number): void {
  if (length > maxBatch) throw new FoldlineError('batch_too_large', `a batch holds at most ${maxBatch} events, this one ${length}`);
}

/** Attributes from `ce-*` headers (percent-decoded), `datacontenttype` from content-type, the body as `data`. */
function binaryEvent(headers: RequestHeaders, body: Buffer): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [header, value] of headers) {
    if (!header.startsWith('ce-')) continue;
    const name = header.slice(3);
    if (!/^[a-z0-9]+$/.test(name) || name === 'data') {
      throw new FoldlineError('invalid_header', `header ${JSON.stringify(header)} does not name a CloudEvents attribute`, { path: `/${name}` });
    }
    event[name] = percentDecode(header, value);
  }
  const contentType = headers.get('content-type');
  if (contentType !== undefined) event.datacontenttype = contentType.trim();
  if (body.length > 0) event.data = parseJson(body);
  return event;
}

function percentDecode(header: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new FoldlineError('invalid_header', `header ${JSON.stringify(header)} has a malformed percent-encoding`, { path: `/${header.slice(3)}` });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as JSON; 400 `malformed_json` when it is not (or not UTF-8). */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch (error) {
    const why = error instanceof SyntaxError ? error.message : 'the body is not valid UTF-8';
    throw new FoldlineError('malformed_json', `the body is not JSON: ${why}`);
  }
}

function isJson(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json');
}

function unsupported(message: string): FoldlineError {
  return new FoldlineError('unsupported_media_type', message);
}
