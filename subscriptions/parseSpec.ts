import { FoldlineError } from '../base/errors.js';
import type { SubscriptionSpec } from './types.js';

/** What `POST /v1/subscriptions` asks for: a spec, and where in the ledger the new subscription starts. */
export interface SubscriptionRequest {
  spec: SubscriptionSpec;
  /** `now`: events appended from now on (the default); `start`: the whole ledger too. */
  from: 'now' | 'start';
}

const namePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
const known = new Set(['name', 'url', 'secret', 'types', 'views', 'from']);
const maxTypes = 100;

/** Checks a request body member by member; a bad one is refused with its JSON path. */
export function parseSubscriptionRequest(body: unknown, now = new Date()): SubscriptionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('', 'a subscription is a JSON object');
  const input = body as Record<string, unknown>;
  for (const member of Object.keys(input)) if (!known.has(member)) throw invalid(`/${member}`, 'is not a member of a subscription (name, url, secret, types, views, from)');
  const { name, url, secret, types, views, from } = input;
  if (typeof name !== 'string' || !namePattern.test(name)) throw invalid('/name', 'must be 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit');
  if (typeof url !== 'string' || !isHttpUrl(url)) throw invalid('/url', 'must be an http or https URL');
  if (typeof secret !== 'string' || secret.length < 16 || secret.length > 256) throw invalid('/secret', 'must be a string of 16 to 256 characters');
  if (types !== undefined && views !== undefined) throw invalid('/views', 'and types exclude each other: a subscription delivers events of some types, or changes of some views');
  const typeList = names(types, '/types', 'event type');
  const viewList = names(views, '/views', 'view name');
  if (from !== undefined && from !== 'now' && from !== 'start') throw invalid('/from', 'must be "now" or "start"');
  return {
    spec: { name, url, secret, ...(typeList && { types: typeList }), ...(viewList && { views: viewList }), createdAt: now.toISOString() },
    from: from ?? 'now',
  };
}

/** A list of 1 to `maxTypes` names of 1 to 200 characters, without repeats; undefined when absent. */
function names(list: unknown, path: string, what: string): string[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0 || list.length > maxTypes) throw invalid(path, `must be a list of 1 to ${maxTypes} ${what}s`);
  list.forEach((item, index) => {
    if (typeof item !== 'string' || item.length === 0 || item.length > 200) throw invalid(`${path}/${index}`, `must be a ${what} (a string of 1 to 200 characters)`);
  });
  return [...new Set(list as string[])];
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
