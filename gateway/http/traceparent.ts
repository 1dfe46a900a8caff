import { isTraceparent } from '../../base/traceparent.js';
import type { DecodedEvents } from './cloudevents.js';

/**
 * The `traceparent` header of an append, kept on each event that carries none of its own (as
 * the CloudEvents Distributed Tracing extension holds it), so that the pushes and webhook
 * deliveries the events cause carry it on. A malformed header is ignored, as W3C Trace
 * Context says. Events changed here are stored as serialized again, not as the text they came in.
 */
export function withTraceparent(decoded: DecodedEvents, header: string | undefined): DecodedEvents {
  const traceparent = header?.trim();
  if (!isTraceparent(traceparent)) return decoded;
  let changed = false;
  for (const value of decoded.values) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || 'traceparent' in value) continue;
    (value as Record<string, unknown>)['traceparent'] = traceparent;
    changed = true;
  }
  return changed ? { values: decoded.values } : decoded;
}
