/**
 * The order of writes for last-writer-wins: event time in whole milliseconds, then the
 * event id, then its source (plain UTF-16 string order), as DESIGN.md specifies.
 */
export interface Stamp {
  /** Event time, milliseconds since the epoch. */
  readonly t: number;
  readonly id: string;
  readonly src: string;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  return compareStrings(a.id, b.id) || compareStrings(a.src, b.src);
}

/** The later of two stamps (the first when they are equal). */
export function laterStamp(a: Stamp, b: Stamp): Stamp {
  return compareStamps(a, b) >= 0 ? a : b;
}

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, truncated to the millisecond;
 * NaN when the text is not RFC 3339 or names an impossible date. A leap second (:60) reads
 * as the last millisecond of its minute, which keeps its order among its neighbours.
 */
export function parseTime(text: string): number {
  const m = rfc3339.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = m[7];
  const offset = m[8]!;
  const leap = second === 60;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, leap ? 59 : second, leap ? 999 : fraction ? Number(`${fraction.slice(1)}00`.slice(0, 3)) : 0);
  // Out-of-range fields roll over (Feb 30 → Mar 2): such a date is not valid input.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  const ms = date.getTime();
  if (offset === 'Z' || offset === 'z') return ms;
  const sign = offset.startsWith('-') ? -1 : 1;
  return ms - sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
}

/** ISO 8601 UTC with milliseconds, the form views print times in. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
