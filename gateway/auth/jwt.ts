import { SignJWT } from 'jose';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { FoldlineError } from '../../base/errors.js';
import type { Principal } from '../types.js';

const algorithm = 'HS256';
/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash. */
const minSecretBytes = 32;
const base64url = /^[A-Za-z0-9_-]*$/;

/** The HS256 key of a secret; refuses one too short to be safe. */
export function secretKey(secret: string): Buffer {
  const key = Buffer.from(secret, 'utf8');
  if (key.length < minSecretBytes) {
    throw new FoldlineError('weak_secret', `the auth secret is ${key.length} bytes long, fewer than the ${minSecretBytes} HS256 needs`);
  }
  return key;
}

/**
 * Verifies bearer JWTs (RFC 7519, compact JWS): HS256 only, the signature, `exp` (required)
 * and `nbf` with clock tolerance, then `sub` and `role` (one of `roles`).
 *
 * Synchronous on purpose (jose's verification is asynchronous): a WebSocket upgrade finished
 * after an await must be corked, and uWebSockets.js's cork can then close the new socket
 * (uNetworking/uWebSockets#1928, docs/uwebsockets.md); verifying in the upgrade handler
 * itself keeps the upgrade on the synchronous path. Tokens are made with jose (`signToken`),
 * and the tests check this verifier against tokens jose signs and forges.
 */
export class TokenVerifier {
  private readonly key: Buffer;

  private readonly roles: ReadonlySet<string>;

  constructor(
    secret: string,
    roles: readonly string[],
    private readonly clockToleranceSeconds = 5,
  ) {
    this.key = secretKey(secret);
    this.roles = new Set(roles);
  }

  /** Throws 401: `token_expired`, or `invalid_token` for anything else wrong with it. */
  verify(token: string): Principal {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((part) => base64url.test(part))) throw invalid('not a compact JWS');
    const [header, payload, signature] = parts as [string, string, string];
    const protectedHeader = jsonObject(header);
    // Pinned: `none`, other HMACs and asymmetric algorithms are all refused; no extensions.
    if (protectedHeader.alg !== algorithm || protectedHeader.crit !== undefined || protectedHeader.b64 !== undefined) throw invalid('algorithm is not HS256');
    const expected = createHmac('sha256', this.key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('signature mismatch');
    const claims = jsonObject(payload);
    const now = Date.now() / 1000;
    const { exp, nbf, sub, role } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('no exp');
    if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) throw invalid('malformed nbf');
    if (exp + this.clockToleranceSeconds <= now) throw unauthorized('token_expired', 'the bearer token has expired');
    if (typeof nbf === 'number' && nbf - this.clockToleranceSeconds > now) throw invalid('not valid yet (nbf)');
    if (typeof sub !== 'string' || sub === '') throw invalid('no sub');
    if (typeof role !== 'string' || !this.roles.has(role)) throw invalid(`no valid role (${[...this.roles].join(', ')})`);
    return { sub, role, expiresAt: exp * 1000 };
  }
}

/** A token for `principal`, valid for `expiresInSeconds` (a demo's sign-in, tests, operators). */
export function signToken(secret: string, principal: Omit<Principal, 'expiresAt'>, expiresInSeconds: number): Promise<string> {
  return new SignJWT({ role: principal.role })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
    .setSubject(principal.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(new Uint8Array(secretKey(secret)));
}

export function unauthorized(code: string, message: string): FoldlineError {
  return new FoldlineError(code, message);
}

function invalid(why: string): FoldlineError {
  return unauthorized('invalid_token', `the bearer token is not valid: ${why}`);
}

function jsonObject(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw invalid('a part is not base64url JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('a part is not a JSON object');
  return value as Record<string, unknown>;
}
