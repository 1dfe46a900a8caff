import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../subscriptions/backoff.js';
import { signature, verifySignature } from '../subscriptions/signature.js';

/* The webhook signature as a receiver checks it, and the retry delays' bounds. */
describe('foldline-signature', () => {
  it('is HMAC-SHA256 over "t.body", and verifies only with the secret, the body and a recent t', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string(), fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }), (secret, body, t) => {
        const header = signature(secret, t, body);
        expect(header).toBe(`t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`);
        expect(verifySignature(secret, header, body, 300, t + 10)).toBe(true);
        expect(verifySignature(`${secret}x`, header, body, 300, t)).toBe(false);
        expect(verifySignature(secret, header, `${body}x`, 300, t)).toBe(false);
        expect(verifySignature(secret, header, body, 300, t + 301)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('retryDelay', () => {
  it('doubles from the base up to the cap, with half of it random', () => {
    const policy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 60_000 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (retry, draw) => {
        const ceiling = Math.min(60_000, 500 * 2 ** (retry - 1));
        const delay = retryDelay(policy, retry, () => draw);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
    );
  });
});
