import { describe, expect, it } from 'vitest';
import { ChangeLog } from '../joiner/changeLog.js';
import { encodeToken } from '../ledger/token.js';

/* Where a consumer of the change stream resumes, and when it is told to re-read instead. */
const at = (seq: number): Record<string, string> => ({ 'customer/0': String(seq) });

describe('ChangeLog', () => {
  it('resumes after a change id, after a token, or with the next change', () => {
    const log = new ChangeLog(at(0), { maxChanges: 10, maxAgeMs: 60_000 });
    for (const seq of [1, 2, 2, 3]) log.append('cart', `c-${seq}`, '{}', at(seq), 1_000);
    const [first, second] = log.since(1);
    expect(log.resumeSeq(undefined, 1_000)).toBe(5);
    expect(log.resumeSeq(ChangeLog.idOf(first!), 1_000)).toBe(2);
    expect(log.resumeSeq(ChangeLog.idOf(second!), 1_000)).toBe(3);
    // A token: every change it does not cover, so both changes at seq 2 come again after token(1).
    expect(log.resumeSeq(encodeToken(at(1)), 1_000)).toBe(2);
    expect(log.resumeSeq(encodeToken(at(2)), 1_000)).toBe(4);
    expect(log.resumeSeq(encodeToken(at(0)), 1_000)).toBe(1);
  });

  it('answers changes_expired for what is no longer kept, by count or by age, and for another log’s ids', () => {
    const log = new ChangeLog(at(0), { maxChanges: 2, maxAgeMs: 1_000 });
    for (const seq of [1, 2, 3]) log.append('cart', 'c-1', '{}', at(seq), 1_000);
    const kept = log.since(1);
    expect(kept.map(({ seq }) => seq)).toEqual([2, 3]);
    expect(() => log.resumeSeq(`${encodeToken(at(1))}.1`, 1_000)).toThrow(expect.objectContaining({ code: 'changes_expired' }));
    expect(() => log.resumeSeq(encodeToken(at(0)), 1_000)).toThrow(expect.objectContaining({ code: 'changes_expired' }));
    expect(log.resumeSeq(encodeToken(at(1)), 1_000)).toBe(2);
    expect(() => log.resumeSeq(`${encodeToken(at(7))}.3`, 1_000)).toThrow(expect.objectContaining({ code: 'changes_expired' }));
    expect(() => log.resumeSeq(`${encodeToken(at(9))}.9`, 1_000)).toThrow(expect.objectContaining({ code: 'changes_expired' }));
    expect(log.resumeSeq(undefined, 2_500)).toBe(4);
    expect(log.since(1)).toEqual([]);
    expect(() => log.resumeSeq(ChangeLog.idOf(kept[1]!), 2_500)).toThrow(expect.objectContaining({ code: 'changes_expired' }));
  });
});
