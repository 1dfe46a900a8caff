import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/*
 * Deliveries are signed as Stripe signs its webhooks: `foldline-signature: t=UNIX,v1=HEX`,
 * where HEX is HMAC-SHA256 with the subscription's secret over `t + "." + body`. The time
 * inside the signed text lets a receiver refuse replays older than it tolerates.
 */
export const signatureHeader = 'foldline-signature';

/** A secret made a key once, for a signer that signs many bodies: HMAC then skips converting it each time. */
export function signingKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

export function signature(secret: string | KeyObject, unixSeconds: number, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * What a receiver checks: a `v1` signature of the body under `secret`, signed at most
 * `toleranceSeconds` from `nowSeconds`.
 */
export function verifySignature(secret: string, header: string, body: string | Uint8Array, toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const parts = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at), [...(parts.get(part.slice(0, at)) ?? []), part.slice(at + 1)]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, t, body).slice(`t=${t},v1=`.length), 'hex');
  return (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
