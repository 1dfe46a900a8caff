import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRfc3339, parseTime } from '../crdt/index.js';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

// Components around every boundary: two-digit years, month/day rollovers, leap days and
// seconds, the last minute of a day, stray characters, every fraction length and zone form.
const timeText = fc
  .record({
    year: fc.oneof(fc.constantFrom(1900, 2000, 2023, 2024, 2100), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1896, max: 2404 }), fc.integer({ min: 0, max: 9999 })),
    month: fc.oneof(fc.constant(2), fc.integer({ min: 0, max: 13 })),
    day: fc.oneof(fc.constantFrom(28, 29, 30, 31), fc.integer({ min: 0, max: 32 })),
    hour: fc.oneof(fc.constant(23), fc.integer({ min: 0, max: 25 })),
    minute: fc.oneof(fc.constant(59), fc.integer({ min: 0, max: 60 })),
    second: fc.oneof(fc.constantFrom(59, 60), fc.integer({ min: 0, max: 61 })),
    fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\.[0-9]{1,9}$/), fc.stringMatching(/^\.[0-9]{3}$/)),
    t: fc.constantFrom('T', 't', ' '),
    zone: fc.oneof(fc.constantFrom('Z', 'z', '', 'X'), fc.tuple(fc.constantFrom('+', '-', '/'), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 })).map(([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`)),
  })
  .map(({ year, month, day, hour, minute, second, fraction, t, zone }) => `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${t}${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}${zone}`);

/** One character of the text replaced, so that every fixed position sees a wrong one. */
const corrupted = fc.tuple(timeText, fc.nat(), fc.constantFrom('a', '-', ':', '.', '0', '9', '/', 'Z', 'T', '+')).map(([text, at, c]) => {
  const i = at % text.length;
  return text.slice(0, i) + c + text.slice(i + 1);
});

describe('parseTime', () => {
  it('agrees with the general RFC 3339 reading on any text, the millisecond form included', () => {
    fc.assert(
      fc.property(fc.oneof(timeText, corrupted, fc.string()), (text) => {
        expect(Object.is(parseTime(text), parseRfc3339(text))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads the generator forms: UTC and local time with an offset', () => {
    expect(parseTime('2024-03-01T08:00:00.123Z')).toBe(Date.UTC(2024, 2, 1, 8, 0, 0, 123));
    expect(parseTime('2024-03-01T09:30:00.123+01:30')).toBe(Date.UTC(2024, 2, 1, 8, 0, 0, 123));
    expect(parseTime('2024-02-29T23:59:59.999-05:00')).toBe(Date.UTC(2024, 2, 1, 4, 59, 59, 999));
    expect(parseTime('2023-02-29T00:00:00.000Z')).toBeNaN();
  });
});
