import { FoldlineError } from '../../base/errors.js';

/**
 * A route pattern is a path of literal segments, `{name}` (one non-empty segment) and, last,
 * `{name...}` (the rest of the path, slashes included). Parameters are percent-decoded, so
 * `a%2Fb` and `a/b` give the same rest; literals compare as sent.
 */
export interface Route {
  method: string;
  pattern: string;
}

export type RouteMatch<R extends Route> =
  | { kind: 'found'; route: R; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' };

type Segment = { literal: string } | { param: string; rest: boolean };

interface Compiled<R extends Route> {
  route: R;
  segments: Segment[];
}

export class Router<R extends Route> {
  private readonly routes: Compiled<R>[];

  constructor(routes: readonly R[]) {
    this.routes = routes.map((route) => ({ route, segments: compile(route.pattern) }));
  }

  /** Throws 400 `bad_path` when a parameter's percent-encoding is malformed. */
  match(method: string, path: string): RouteMatch<R> {
    const parts = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const { route, segments } of this.routes) {
      const raw = rawParams(segments, parts);
      if (!raw) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(raw)) params[name] = decode(value);
      return { kind: 'found', route, params };
    }
    return allowed.length > 0 ? { kind: 'method_not_allowed', allowed } : { kind: 'not_found' };
  }
}

function compile(pattern: string): Segment[] {
  return pattern
    .split('/')
    .slice(1)
    .map((segment, index, all) => {
      const param = /^\{([a-z][A-Za-z0-9]*)(\.\.\.)?\}$/.exec(segment);
      if (!param) return { literal: segment };
      const rest = param[2] !== undefined;
      if (rest && index !== all.length - 1) throw new Error(`route ${pattern}: a rest parameter must come last`);
      return { param: param[1]!, rest };
    });
}

/** The undecoded parameters when `parts` fit the segments. */
function rawParams(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    if ('literal' in segment) {
      if (parts[index] !== segment.literal) return undefined;
    } else if (segment.rest) {
      const rest = parts.slice(index).join('/');
      if (rest === '') return undefined;
      params[segment.param] = rest;
      return params;
    } else {
      if (parts[index] === undefined || parts[index] === '') return undefined;
      params[segment.param] = parts[index]!;
    }
  }
  return parts.length === segments.length ? params : undefined;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new FoldlineError('bad_path', `malformed percent-encoding in ${JSON.stringify(value.slice(0, 100))}`);
  }
}
