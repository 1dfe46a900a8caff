/** A W3C Trace Context `traceparent` (version, trace id, parent id, flags), lower-case hex. */
const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && traceparentPattern.test(value);
}

/** The trace an event (or any record of members) carries, when it is a valid one. */
export function traceOf(event: Readonly<Record<string, unknown>>): string | undefined {
  const traceparent = event['traceparent'];
  return isTraceparent(traceparent) ? traceparent : undefined;
}
