import { FoldlineError } from '../base/errors.js';
import type { SubscriptionSpec } from './types.js';

/** What `POST /v1/subscriptions` asks for: a spec, and where in the ledger the new subscription starts. */
export interface SubscriptionRequest {
  spec: SubscriptionSpec;
  /** `now`: events appended from now on (the default); `start`: the whole ledger too. */
  from: 'now' | 'start';
}

const namePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
const known = new Set(['name', 'url', 'secret', 'types', 'from']);
const maxTypes = 100;

/** Checks a request body member by member; a bad one is refused with its JSON path. */
export function parseSubscriptionRequest(body: unknown, now = new Date()): SubscriptionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('', 'a subscription is a JSON object');
  const input = body as Record<string, unknown>;
  for (const member of Object.keys(input)) if (!known.has(member)) throw invalid(`/${member}`, 'is not a member of a subscription (name, url, secret, types, from)');
  const { name, url, secret, types, from } = input;
  if (typeof name !== 'string' || !namePattern.test(name)) throw invalid('/name', 'must be 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit');
  if (typeof url !== 'string' || !isHttpUrl(url)) throw invalid('/url', 'must be an http or https URL');
  if (typeof secret !== 'string' || secret.length < 16 || secret.length > 256) throw invalid('/secret', 'must be a string of 16 to 256 characters');
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length === 0 || types.length > maxTypes) throw invalid('/types', `must be a list of 1 to ${maxTypes} event types`);
    types.forEach((type, index) => {
      if (typeof type !== 'string' || type.length === 0 || type.length > 200) throw invalid(`/types/${index}`, 'must be an event type (a string of 1 to 200 characters)');
    });
  }
  if (from !== undefined && from !== 'now' && from !== 'start') throw invalid('/from', 'must be "now" or "start"');
  return {
    spec: { name, url, secret, ...(types === undefined ? {} : { types: [...new Set(types as string[])] }), createdAt: now.toISOString() },
    from: from ?? 'now',
  };
}

/** Checks the name of a subscription named in a path. */
export function checkSubscriptionName(name: string): void {
  if (!namePattern.test(name)) throw new FoldlineError('unknown_subscription', `no subscription named ${JSON.stringify(name.slice(0, 100))}`);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

function invalid(path: string, message: string): FoldlineError {
  return new FoldlineError('invalid_subscription', path === '' ? message : `${path.slice(1)} ${message}`, path === '' ? {} : { path });
}
