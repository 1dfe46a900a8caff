/**
 * The order of writes for last-writer-wins: event time in whole milliseconds, then the
 * event id, then its source (plain UTF-16 string order).
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

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, truncated to the millisecond;
 * NaN when the text is not RFC 3339 or names an impossible date. A leap second (:60) reads
 * as the last millisecond of its minute, which keeps its order among its neighbours.
 */
export function parseTime(text: string): number {
  // Every fold parses event times, nearly all in the millisecond form: read that one by hand.
  const ms = parseMillisecondTime(text);
  return ms === ms ? ms : parseRfc3339(text);
}

/** The general reading behind parseTime: the same results, without the fast path. */
export function parseRfc3339(text: string): number {
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

/**
 * `YYYY-MM-DDTHH:MM:SS.sss` then `Z` or `±HH:MM`, years 100 on, seconds to 59. NaN for
 * anything else, valid or not: parseRfc3339 decides those (leap seconds, years before 100,
 * other fraction lengths), so both paths agree.
 */
function parseMillisecondTime(text: string): number {
  const length = text.length;
  if (length !== 24 && length !== 29) return Number.NaN;
  if (text[4] !== '-' || text[7] !== '-' || (text[10] !== 'T' && text[10] !== 't') || text[13] !== ':' || text[16] !== ':' || text[19] !== '.') {
    return Number.NaN;
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const milli = digitsAt(text, 20, 3);
  // Comparisons with NaN are false, so a non-digit anywhere fails here too.
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59 && milli >= 0)) {
    return Number.NaN;
  }
  const utc = ((daysFromEpoch(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli;
  const zone = text[23];
  if (length === 24) return zone === 'Z' || zone === 'z' ? utc : Number.NaN;
  if ((zone !== '+' && zone !== '-') || text[26] !== ':') return Number.NaN;
  const offset = digitsAt(text, 24, 2) * 60 + digitsAt(text, 27, 2);
  return utc - (zone === '-' ? -1 : 1) * offset * 60_000;
}

/** The decimal number of `count` characters at `at`; NaN unless all are ASCII digits. */
function digitsAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    n = n * 10 + digit;
  }
  return n;
}

/** Days from 1970-01-01 to a proleptic Gregorian date, as Date counts them (Hinnant's days_from_civil). */
function daysFromEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** ISO 8601 UTC with milliseconds, the form views print times in. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
