import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoldlineError } from '../base/errors.js';
import { mergeFrontiers, type Frontier } from '../crdt/index.js';
import { decodeEvents, eventsMode } from '../gateway/http/cloudevents.js';
import { statusOf } from '../gateway/http/errorStatus.js';
import { parseMediaType } from '../gateway/http/mediaType.js';
import { Router } from '../gateway/http/router.js';
import { parseReadQuery } from '../gateway/http/viewQuery.js';
import { encodeToken } from '../ledger/token.js';

/** Request parsing of the gateway, without a server. */

/** What a client would get of the error `run` throws: its JSON and the HTTP status of its code. */
function failure(run: () => unknown): ReturnType<FoldlineError['toJSON']> & { status: number } {
  try {
    run();
  } catch (error) {
    if (error instanceof FoldlineError) return { ...error.toJSON(), status: statusOf(error) };
    throw error;
  }
  throw new Error('expected a FoldlineError');
}

describe('parseMediaType', () => {
  it('lower-cases the essence and parameter names, unquotes values', () => {
    const parsed = parseMediaType('Application/CloudEvents+JSON ; Charset="UTF-8";q="a\\"b"');
    expect(parsed).toEqual({ essence: 'application/cloudevents+json', params: new Map([['charset', 'UTF-8'], ['q', 'a"b']]) });
  });

  it('refuses what is not a media type', () => {
    for (const header of ['', 'json', 'application/', 'a/b/c', 'a b/c', 'application/json; charset', 'text/plain; x=a"b']) expect(parseMediaType(header)).toBeUndefined();
  });
});

describe('eventsMode', () => {
  const mode = (headers: Record<string, string>) => eventsMode(new Map(Object.entries(headers)));

  it('chooses the mode from content-type and ce-specversion', () => {
    expect(mode({ 'content-type': 'application/cloudevents+json' })).toBe('structured');
    expect(mode({ 'content-type': 'application/cloudevents+json', 'ce-specversion': '1.0' })).toBe('structured');
    expect(mode({ 'content-type': 'application/cloudevents-batch+json; charset=utf8' })).toBe('batch');
    expect(mode({ 'content-type': 'application/json', 'ce-specversion': '1.0' })).toBe('binary');
    expect(mode({ 'content-type': 'application/vnd.example+json', 'ce-specversion': '1.0' })).toBe('binary');
    expect(mode({ 'ce-specversion': '1.0' })).toBe('binary');
    expect(mode({ 'content-type': 'APPLICATION/JSON' })).toBe('structured');
  });

  it('answers 415 unsupported_media_type to anything else', () => {
    const refused: Array<Record<string, string>> = [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/json; charset=iso-8859-1' }, { 'content-type': 'text/plain', 'ce-specversion': '1.0' }];
    for (const headers of refused) {
      expect(failure(() => mode(headers))).toMatchObject({ code: 'unsupported_media_type', status: 415 });
    }
  });
});

describe('decodeEvents', () => {
  const binary = (headers: Record<string, string>, body = '') => decodeEvents('binary', new Map(Object.entries(headers)), Buffer.from(body), 10);

  it('maps binary headers to attributes, content-type to datacontenttype and leaves data out of an empty body', () => {
    expect(binary({ 'ce-specversion': '1.0', 'ce-subject': 'caf%C3%A9%20%25', 'content-type': 'application/json' })).toEqual({
      values: [{ specversion: '1.0', subject: 'café %', datacontenttype: 'application/json' }],
    });
    expect(binary({ 'ce-specversion': '1.0' }, '{"a":1}')).toEqual({ values: [{ specversion: '1.0', data: { a: 1 } }] });
  });

  it('refuses a malformed percent-encoding and a header that would replace data', () => {
    expect(failure(() => binary({ 'ce-specversion': '1.0', 'ce-id': '%E0%A4%A' }))).toMatchObject({ code: 'invalid_header', status: 400, path: '/id' });
    expect(failure(() => binary({ 'ce-specversion': '1.0', 'ce-data': '{}' }))).toMatchObject({ code: 'invalid_header', path: '/data' });
  });

  it('takes a batch as given up to the limit', () => {
    const batch = (body: string) => decodeEvents('batch', new Map(), Buffer.from(body), 2);
    // A value that is not an object is refused by validation: it gets no text.
    expect(batch('[1, {"a": 2}]')).toEqual({ values: [1, { a: 2 }] });
    const objects = batch(' [ {"a": 2} ,\n{"b":"]}\\"{"}]');
    expect(objects.values).toEqual([{ a: 2 }, { b: ']}"{' }]);
    expect(objects.texts!.map((text) => Buffer.from(text).toString())).toEqual(['{"a": 2}', '{"b":"]}\\"{"}']);
    expect(batch('[]')).toEqual({ values: [], texts: [] });
    expect(failure(() => batch('[1,2,3]'))).toMatchObject({ code: 'batch_too_large', status: 413 });
    expect(failure(() => batch('{"a":1}'))).toMatchObject({ code: 'invalid_batch', status: 400 });
  });

  it('skips a UTF-8 byte order mark and refuses other invalid text as malformed_json', () => {
    expect(decodeEvents('structured', new Map(), Buffer.from('\uFEFF{"a":1}'), 1)).toEqual({ values: [{ a: 1 }] });
    expect(decodeEvents('batch', new Map(), Buffer.from('\uFEFF[{"a":1}]'), 1)).toEqual({ values: [{ a: 1 }], texts: [Buffer.from('{"a":1}')] });
    expect(failure(() => decodeEvents('structured', new Map(), Buffer.from([0x7b, 0xc3]), 1))).toMatchObject({ code: 'malformed_json', status: 400 });
  });
});

describe('parseReadQuery', () => {
  const limits = { maxWaitMs: 1000, defaultWaitMs: 300 };

  it('waits by default only when there is a token, and never longer than maxWaitMs', () => {
    const token = encodeToken({ 's/0': '3' });
    expect(parseReadQuery('', limits)).toEqual({});
    expect(parseReadQuery('wait=50', limits)).toEqual({});
    expect(parseReadQuery(`after=${token}`, limits)).toEqual({ after: { 's/0': '3' }, waitMs: 300 });
    expect(parseReadQuery(`after=${token}&wait=0`, limits)).toEqual({ after: { 's/0': '3' }, waitMs: 0 });
    expect(parseReadQuery(`wait=99999&after=${token}`, limits)).toEqual({ after: { 's/0': '3' }, waitMs: 1000 });
    for (const wait of ['-1', '1.5', 'soon', '', '12345678901']) expect(failure(() => parseReadQuery(`wait=${wait}`, limits))).toMatchObject({ code: 'bad_wait', status: 400 });
  });

  it('merges any number of after tokens (property)', () => {
    const position = fc.constantFrom('a/0', 'a/1', 'b/0', 'b.c/12');
    const seq = fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String);
    const frontierArb = fc.dictionary(position, seq) as fc.Arbitrary<Frontier>;
    fc.assert(
      fc.property(fc.array(frontierArb, { minLength: 1, maxLength: 5 }), (frontiers) => {
        const query = frontiers.map((f) => `after=${encodeToken(f)}`).join('&');
        expect(parseReadQuery(query, limits).after).toEqual(mergeFrontiers(...frontiers));
      }),
      { numRuns: 200 },
    );
  });
});

describe('Router', () => {
  const router = new Router([
    { method: 'GET', pattern: '/v1/views/{view}/{key...}' },
    { method: 'POST', pattern: '/v1/events' },
    { method: 'PUT', pattern: '/v1/events' },
    { method: 'GET', pattern: '/v1/items/{id}' },
  ]);

  it('decodes parameters, the rest parameter with its slashes', () => {
    expect(router.match('GET', '/v1/views/cart/a%2Fb/c%20d')).toMatchObject({ kind: 'found', params: { view: 'cart', key: 'a/b/c d' } });
    expect(router.match('GET', '/v1/items/%3F')).toMatchObject({ kind: 'found', params: { id: '?' } });
  });

  it('tells a wrong method (with the allowed ones) from an unknown path', () => {
    expect(router.match('GET', '/v1/events')).toEqual({ kind: 'method_not_allowed', allowed: ['POST', 'PUT'] });
    for (const path of ['/v1/views/cart', '/v1/views/cart/', '/v1/items/', '/v1/items/a/b', '/v1/events/', '/']) {
      expect(router.match('GET', path)).toEqual({ kind: 'not_found' });
    }
  });

  it('answers a malformed percent-encoding 400 bad_path', () => {
    expect(failure(() => router.match('GET', '/v1/items/%zz'))).toMatchObject({ code: 'bad_path', status: 400 });
  });
});

describe('statusOf', () => {
  it('maps known codes, and a domain code by whether it names the input at fault', () => {
    expect(statusOf(new FoldlineError('not_caught_up', 'later'))).toBe(503);
    expect(statusOf(new FoldlineError('forbidden', 'no'))).toBe(403);
    expect(statusOf(new FoldlineError('bad_sku', 'no such sku', { path: '/data/sku' }))).toBe(400);
    expect(statusOf(new FoldlineError('bad_line', 'no', { index: 3 }))).toBe(400);
    expect(statusOf(new FoldlineError('disk_on_fire', 'oops'))).toBe(500);
  });
});
