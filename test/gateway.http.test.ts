import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positionKey } from '../crdt/index.js';
import { encodeToken } from '../ledger/token.js';
import { maxNotesKey, note, startNotesServer, type NotesServer } from './support/notesGateway.js';

/* The HTTP gateway against a real server on a free port, over the generic notes domain (test/support/notesGateway.ts). */

const stream = 'notes';
const startServer = startNotesServer;
type Server = NotesServer;

interface Receipt {
  id: string;
  stream: string;
  shard: number;
  seq: string;
  duplicate: boolean;
}
interface Receipts {
  receipts: Receipt[];
  token: string;
}
interface ErrorBody {
  error: { code: string; message: string; index?: number; path?: string };
}

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

async function post(body: string | Uint8Array | ReadableStream, headers: Record<string, string>): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${server.url}/v1/events`, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  return { status: response.status, json: await response.json(), headers: response.headers };
}

async function get(path: string): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(server.url + path);
  return { status: response.status, json: await response.json(), headers: response.headers };
}

/**
 * A read with the path sent as written: fetch, like every WHATWG URL client, drops a `.` or
 * `..` segment (even as `%2E`) before sending, so such keys need a client that does not.
 */
async function readNotes(subject: string, query = ''): Promise<{ status: number; json: unknown }> {
  const path = `/v1/views/notes/${encodeURIComponent(subject)}${query}`;
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.gateway.port, path }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      })
      .on('error', reject);
  });
}

async function expectError(answer: Promise<{ status: number; json: unknown }>, status: number, error: Partial<ErrorBody['error']>): Promise<void> {
  const { status: actual, json } = await answer;
  expect({ status: actual, error: (json as ErrorBody).error }).toMatchObject({ status, error });
  expect(typeof (json as ErrorBody).error.message).toBe('string');
}

describe('POST /v1/events', () => {
  it('appends one structured event and the view read with its token reflects it', async () => {
    const event = note('s-structured', 'hello');
    const { status, json } = await post(JSON.stringify(event), { 'content-type': 'application/cloudevents+json' });
    expect(status).toBe(202);
    const { receipts, token } = json as Receipts;
    expect(receipts).toEqual([{ id: event.id, stream, shard: expect.any(Number), seq: expect.any(String), duplicate: false }]);
    const read = await readNotes('s-structured', `?after=${token}`);
    expect(read).toEqual({ status: 200, json: { view: 'notes', key: 's-structured', token: expect.any(String), value: { subject: 's-structured', texts: ['hello'] } } });
  });

  it('accepts media-type parameters and any case', async () => {
    const { status } = await post(JSON.stringify(note('s-case', 'x')), { 'content-type': 'Application/CloudEvents+JSON; Charset="UTF-8"' });
    expect(status).toBe(202);
  });

  it('takes plain application/json without ce- headers as one structured event', async () => {
    const { status, json } = await post(JSON.stringify(note('s-plain', 'plain')), { 'content-type': 'application/json; charset=utf-8' });
    expect(status).toBe(202);
    expect((json as Receipts).receipts).toHaveLength(1);
  });

  it('appends a batch in order, one receipt per event', async () => {
    const events = [note('s-batch-1', 'a'), note('s-batch-2', 'b'), note('s-batch-1', 'c')];
    const { status, json } = await post(JSON.stringify(events), { 'content-type': 'application/cloudevents-batch+json; charset=utf-8' });
    expect(status).toBe(202);
    const { receipts, token } = json as Receipts;
    expect(receipts.map((r) => r.id)).toEqual(events.map((e) => e.id));
    const read = await readNotes('s-batch-1', `?after=${token}`);
    expect((read.json as { value: unknown }).value).toEqual({ subject: 's-batch-1', texts: ['a', 'c'] });
  });

  it('reads binary mode: ce-* headers (percent-decoded) are attributes and extensions, the body is data', async () => {
    const { status, json } = await post(JSON.stringify({ text: 'binary' }), {
      'content-type': 'application/json; charset=utf-8',
      'ce-specversion': '1.0',
      'ce-id': 'bin-1',
      'ce-source': 'test/bin%20source',
      'ce-type': 'test.note.added',
      'ce-time': '2024-05-01T10:00:00Z',
      'ce-subject': 's-binary',
      'ce-traceparent': '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(status).toBe(202);
    const [receipt] = (json as Receipts).receipts;
    const [record] = await server.ledger.read(receipt!.stream, receipt!.shard, String(Number(receipt!.seq) - 1), 1);
    expect(record!.event).toEqual({
      specversion: '1.0',
      id: 'bin-1',
      source: 'test/bin source',
      type: 'test.note.added',
      time: '2024-05-01T10:00:00Z',
      subject: 's-binary',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      datacontenttype: 'application/json; charset=utf-8',
      data: { text: 'binary' },
    });
  });

  it('refuses a ce- header that names no attribute', async () => {
    await expectError(post('{"text":"x"}', { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-bad-name': 'x' }), 400, {
      code: 'invalid_header',
      path: '/bad-name',
    });
  });

  it('answers a repeated event with the first receipt, duplicate: true, and no second effect', async () => {
    const event = note('s-dup', 'once');
    const first = (await post(JSON.stringify(event), { 'content-type': 'application/cloudevents+json' })).json as Receipts;
    const again = await post(JSON.stringify([event, event]), { 'content-type': 'application/cloudevents-batch+json' });
    expect(again.status).toBe(202);
    const { receipts, token } = again.json as Receipts;
    expect(receipts).toEqual([
      { ...first.receipts[0], duplicate: true },
      { ...first.receipts[0], duplicate: true },
    ]);
    const read = await readNotes('s-dup', `?after=${token}`);
    expect((read.json as { value: unknown }).value).toEqual({ subject: 's-dup', texts: ['once'] });
  });

  it('answers the same id with other content 409 conflict', async () => {
    const event = note('s-conflict', 'one');
    await post(JSON.stringify(event), { 'content-type': 'application/cloudevents+json' });
    await expectError(post(JSON.stringify({ ...event, data: { text: 'two' } }), { 'content-type': 'application/cloudevents+json' }), 409, {
      code: 'conflict',
    });
  });

  it('refuses malformed JSON and bodies that are not UTF-8 with 400 malformed_json, appending nothing', async () => {
    const head = await server.ledger.head();
    await expectError(post('{"specversion": "1.0",', { 'content-type': 'application/cloudevents+json' }), 400, { code: 'malformed_json' });
    await expectError(post(new Uint8Array([0x22, 0xff, 0x22]), { 'content-type': 'application/cloudevents+json' }), 400, { code: 'malformed_json' });
    await expectError(post('', { 'content-type': 'application/cloudevents-batch+json' }), 400, { code: 'malformed_json' });
    await expectError(post('{}', { 'content-type': 'application/cloudevents-batch+json' }), 400, { code: 'invalid_batch' });
    expect(await server.ledger.head()).toEqual(head);
  });

  it('refuses other media types and charsets with 415, and the connection stays usable', async () => {
    const body = JSON.stringify(note('s-415', 'x'));
    await expectError(post(body, { 'content-type': 'text/plain' }), 415, { code: 'unsupported_media_type' });
    await expectError(post(body, { 'content-type': 'application/cloudevents+json; charset=latin1' }), 415, { code: 'unsupported_media_type' });
    await expectError(post(body, { 'content-type': 'text/plain', 'ce-specversion': '1.0' }), 415, { code: 'unsupported_media_type' });
    await expectError(post(body, { 'content-type': 'not a media type' }), 415, { code: 'unsupported_media_type' });
    expect((await get('/v1/health')).status).toBe(200);
  });

  it('refuses a whole batch with one bad event: 400 with its index and path, nothing appended', async () => {
    const head = await server.ledger.head();
    const batch = [note('s-bad', 'fine'), { ...note('s-bad', 'x'), data: { text: 7 } }, note('s-bad', 'fine too')];
    await expectError(post(JSON.stringify(batch), { 'content-type': 'application/cloudevents-batch+json' }), 400, {
      code: 'invalid_event',
      index: 1,
      path: '/data/text',
    });
    await expectError(post(JSON.stringify([note('s-bad', 'a'), { ...note('s-bad', 'b'), type: 'test.other' }]), { 'content-type': 'application/cloudevents-batch+json' }), 400, {
      code: 'unknown_type',
      index: 1,
    });
    expect(await server.ledger.head()).toEqual(head);
  });

  it('refuses a batch over the limit with 413 batch_too_large', async () => {
    const batch = Array.from({ length: 101 }, (_, i) => note('s-big-batch', String(i)));
    await expectError(post(JSON.stringify(batch), { 'content-type': 'application/cloudevents-batch+json' }), 413, { code: 'batch_too_large' });
  });

  it('answers 413 body_too_large to a body over the limit, announced or streamed, and stays healthy', async () => {
    const head = await server.ledger.head();
    const big = JSON.stringify([note('s-huge', 'x'.repeat(300 * 1024))]);
    await expectError(post(big, { 'content-type': 'application/cloudevents-batch+json' }), 413, { code: 'body_too_large' });
    // Chunked, with no content-length: the limit is noticed while reading.
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        if (sent > 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    await expectError(post(endless, { 'content-type': 'application/cloudevents-batch+json' }), 413, { code: 'body_too_large' });
    expect(sent).toBeLessThan(64);
    expect((await get('/v1/health')).status).toBe(200);
    expect(await server.ledger.head()).toEqual(head);
  });
});

describe('GET /v1/views/{view}/{key}', () => {
  it('reflects every merged after token', async () => {
    const tokens: string[] = [];
    for (const subject of ['s-merge-a', 's-merge-b', 's-merge-c']) {
      tokens.push(((await post(JSON.stringify(note(subject, subject)), { 'content-type': 'application/cloudevents+json' })).json as Receipts).token);
    }
    const read = await readNotes('s-merge-b', `?${tokens.map((t) => `after=${t}`).join('&')}&wait=400`);
    expect(read.status).toBe(200);
    expect((read.json as { value: unknown }).value).toEqual({ subject: 's-merge-b', texts: ['s-merge-b'] });
  });

  it('answers 503 not_caught_up, never a stale value, when the token is not reached within wait', async () => {
    const ahead = encodeToken({ [positionKey(stream, 0)]: '999999' });
    const started = Date.now();
    await expectError(readNotes('s-structured', `?after=${ahead}&wait=100`), 503, { code: 'not_caught_up' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('cuts a long wait to maxWaitMs', async () => {
    const ahead = encodeToken({ [positionKey(stream, 0)]: '999999' });
    const started = Date.now();
    await expectError(readNotes('s-structured', `?after=${ahead}&wait=600000`), 503, { code: 'not_caught_up' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses bad tokens, bad waits and malformed keys with 400', async () => {
    await expectError(readNotes('k', '?after=nonsense'), 400, { code: 'bad_token' });
    await expectError(readNotes('k', '?after='), 400, { code: 'bad_token' });
    await expectError(readNotes('k', '?wait=-1'), 400, { code: 'bad_wait' });
    await expectError(get('/v1/views/notes/%E0%A4%A'), 400, { code: 'bad_path' });
  });

  it('answers an unknown view 404 unknown_view', async () => {
    await expectError(get('/v1/views/nope/k'), 404, { code: 'unknown_view' });
  });

  it("answers a key the view refuses with the view's error", async () => {
    await expectError(get(`/v1/views/notes/${'k'.repeat(maxNotesKey + 1)}`), 400, { code: 'bad_key', path: '/key' });
  });

  it('keeps a server healthy when a client leaves during a wait', async () => {
    const ahead = encodeToken({ [positionKey(stream, 1)]: '999999' });
    const leaving = new AbortController();
    const read = fetch(`${server.url}/v1/views/notes/k?after=${ahead}&wait=200`, { signal: leaving.signal });
    setTimeout(() => leaving.abort(), 50);
    await expect(read).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await get('/v1/health')).status).toBe(200);
  });

  it('reads any key, whatever characters it holds (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom('.', '..', '/', '%', '?#&+'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 })), async (key) => {
        const read = await readNotes(key);
        expect(read).toEqual({ status: 200, json: { view: 'notes', key, token: expect.any(String), value: { subject: key, texts: [] } } });
      }),
      { numRuns: 150 },
    );
  });
});

describe('routing, health, metrics and failures', () => {
  it('answers unknown paths 404 not_found and wrong methods 405 with Allow', async () => {
    await expectError(get('/v2/nothing'), 404, { code: 'not_found' });
    await expectError(get('/v1/views/notes'), 404, { code: 'not_found' });
    const unread = await fetch(`${server.url}/v1/event`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(unread.status).toBe(404);
    expect((await get('/v1/health')).status).toBe(200);
    const wrong = await get('/v1/events');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((wrong.json as ErrorBody).error.code).toBe('method_not_allowed');
    const response = await fetch(`${server.url}/v1/health`, { method: 'DELETE' });
    expect(response.status).toBe(405);
  });

  it('reports health with the ledger head and the views frontier as tokens', async () => {
    const { status, json } = await get('/v1/health');
    expect(status).toBe(200);
    expect(json).toEqual({ status: 'ok', ledger: encodeToken(await server.ledger.head()), views: expect.stringMatching(/^v1\./) });
  });

  it('exposes Prometheus metrics: requests by route and status, durations, appended events, body sizes, process', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/foldline_http_requests_total\{route="\/v1\/events",method="POST",status="202"\} [1-9]/);
    expect(text).toMatch(/foldline_http_requests_total\{route="unmatched",method="GET",status="404"\} [1-9]/);
    expect(text).toMatch(/foldline_http_request_duration_seconds_bucket\{le="0.005",route="\/v1\/views\/\{view\}\/\{key...\}",method="GET",status="200"\} [1-9]/);
    expect(text).toMatch(/foldline_events_appended_total\{stream="notes",outcome="new"\} [1-9]/);
    expect(text).toMatch(/foldline_events_appended_total\{stream="notes",outcome="duplicate"\} [1-9]/);
    expect(text).toMatch(/foldline_http_request_body_bytes_count [1-9]/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers an unexpected failure 500 internal without its details and stays up', async () => {
    const failing = await startServer({
      validate: () => {
        throw new TypeError('secret detail');
      },
    });
    try {
      const response = await fetch(`${failing.url}/v1/events`, { method: 'POST', body: JSON.stringify(note('s', 'x')), headers: { 'content-type': 'application/cloudevents+json' } });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
      expect((await fetch(`${failing.url}/v1/health`)).status).toBe(200);
    } finally {
      await failing.close();
    }
  });
});
