import { FoldlineError } from '../../base/errors.js';
import type { CloudEvent } from '../../ledger/types.js';
import type { AccessPolicy, AuthOptions, Principal, SignToken } from '../types.js';
import { signToken, TokenVerifier, unauthorized } from './jwt.js';

/**
 * Authentication and the access checks of every call. With auth off it lets everything
 * through; with auth on, a missing token is a 401 wherever the view or action is not public,
 * and the injected policy decides the rest (403 `forbidden`).
 */
export class AccessGuard {
  private readonly verifier: TokenVerifier | undefined;
  private readonly policy: AccessPolicy | undefined;
  /** Signs tokens with the verifier's secret (auth on only). */
  readonly signToken: SignToken | undefined;

  constructor(auth: AuthOptions | undefined) {
    this.verifier = auth && new TokenVerifier(auth.secret, auth.policy.roles, auth.clockToleranceSeconds);
    this.policy = auth?.policy;
    this.signToken = auth && ((principal, expiresInSeconds) => signToken(auth.secret, principal, expiresInSeconds));
  }

  get enabled(): boolean {
    return this.verifier !== undefined;
  }

  /** The principal of a bearer token; undefined without a token or with auth off. Throws 401 for a bad token. */
  identify(token: string | undefined): Principal | undefined {
    if (!this.verifier || token === undefined) return undefined;
    return this.verifier.verify(token);
  }

  checkRead(principal: Principal | undefined, view: string, key: string): void {
    if (!this.policy || this.policy.isPublicView(view)) return;
    if (!this.policy.canRead(required(principal), view, key)) {
      throw forbidden(`${principal!.role} ${JSON.stringify(principal!.sub)} may not read ${view}/${JSON.stringify(key).slice(0, 100)}`);
    }
  }

  /** Whether a change of this view key may be sent to the principal (a stream skips the others). */
  mayRead(principal: Principal | undefined, view: string, key: string): boolean {
    if (!this.policy || this.policy.isPublicView(view)) return true;
    return principal !== undefined && this.policy.canRead(principal, view, key);
  }

  /** A token is needed to follow any view that is not public. */
  checkCanFollow(principal: Principal | undefined, views: readonly string[]): void {
    if (this.policy && views.some((view) => !this.policy!.isPublicView(view))) required(principal);
  }

  checkAppend(principal: Principal | undefined, events: readonly CloudEvent[]): void {
    if (!this.policy) return;
    const decision = this.policy.canAppend(required(principal), events);
    if (!decision.allowed) throw forbidden(`event ${decision.index}: ${decision.message}`, { index: decision.index, path: decision.path });
  }

  /** Any verified token will do (with auth on). */
  checkAuthenticated(principal: Principal | undefined): void {
    if (this.policy) required(principal);
  }

  /** Operations endpoints (metrics): the policy's operators only. */
  checkOperator(principal: Principal | undefined): void {
    if (!this.policy) return;
    const who = required(principal);
    if (!this.policy.isOperator(who)) throw forbidden(`${who.role} ${JSON.stringify(who.sub)} may not operate this service`);
  }
}

/** The token of an `Authorization: Bearer …` header (RFC 6750); undefined without the header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization === '') return undefined;
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization);
  if (!match) throw unauthorized('invalid_token', 'the authorization header must be "Bearer <token>"');
  return match[1]!;
}

function required(principal: Principal | undefined): Principal {
  if (!principal) throw unauthorized('unauthorized', 'a bearer token is required');
  return principal;
}

function forbidden(message: string, where: { index?: number; path?: string } = {}): FoldlineError {
  return new FoldlineError('forbidden', message, { ...where });
}
