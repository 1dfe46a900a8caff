import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontierCovers } from '../crdt/index.js';
import { decodeToken, encodeToken } from '../ledger/token.js';
import { startService, type Service } from '../service/service.js';
import { retailServiceOptions } from './support/retailService.js';
import { cartChange, productCreated, retailEvent } from './support/retailGateway.js';

/*
 * The change stream of views: a consumer cut off at random points resumes (Last-Event-ID over
 * Server-Sent Events, `after` over NDJSON) and ends with every change of its views, in
 * token order, with no gap; a resume point older than what is kept is a 410.
 */
interface Received {
  id: string;
  view: string;
  key: string;
  token: string;
  value: unknown;
}

let dataDir: string;
let service: Service;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'foldline-changes-'));
  service = await startService(retailServiceOptions(dataDir, { changeViews: ['cart', 'catalog'], changeLog: { maxChanges: 100_000, maxAgeMs: 60 * 60 * 1000 } }));
  await service.changes!.ready;
}, 30_000);

afterAll(async () => {
  await service?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function append(events: Array<Record<string, unknown>>): Promise<string> {
  const response = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(events) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { token: string }).token;
}

/** Reads the stream from `after` until `count` changes came (then cuts the connection) or `lastSeq` was seen. */
async function consume(format: 'sse' | 'ndjson', after: string, count: number, lastSeq: number): Promise<Received[]> {
  const abort = new AbortController();
  const headers: Record<string, string> = format === 'ndjson' ? { accept: 'application/x-ndjson' } : { 'last-event-id': after };
  const query = format === 'ndjson' ? `&after=${encodeURIComponent(after)}` : '';
  const response = await fetch(`${service.url}/v1/changes?view=cart&view=catalog${query}`, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  const received: Received[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body!.getReader();
  try {
    // A stream that stops short of `lastSeq` (a gap) ends the read rather than hang.
    const quiet = sleep(quietMs).then(() => ({ done: true, value: undefined }));
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), quiet]);
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const separator = format === 'ndjson' ? '\n' : '\n\n';
      let at: number;
      while ((at = buffer.indexOf(separator)) >= 0) {
        const message = buffer.slice(0, at);
        buffer = buffer.slice(at + separator.length);
        const change = format === 'ndjson' ? parseLine(message) : parseEvent(message);
        if (!change) continue;
        received.push(change);
        if (received.length >= count || seqOf(change.id) >= lastSeq) return received;
      }
    }
  } finally {
    abort.abort();
  }
  return received;
}

function parseLine(line: string): Received | undefined {
  return line.trim() === '' ? undefined : (JSON.parse(line) as Received);
}

function parseEvent(message: string): Received | undefined {
  const fields = new Map(message.split('\n').filter((line) => !line.startsWith(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
  if (fields.get('event') !== 'change') return undefined;
  return { id: fields.get('id')!, ...(JSON.parse(fields.get('data')!) as Omit<Received, 'id'>) };
}

/** Longer than any one read of the stream here takes: past it, the stream has nothing more to send. */
const quietMs = 5_000;
const seqOf = (id: string): number => Number(id.slice(id.lastIndexOf('.') + 1));

let round = 0;
/** Cart and catalog changes of a few customers and products, some through the join (a price change reaches every cart holding the sku). */
const batchArbitrary = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('add' as const), customer: fc.integer({ min: 0, max: 3 }), sku: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('price' as const), sku: fc.integer({ min: 0, max: 2 }), price: fc.integer({ min: 1, max: 9_999 }) }),
  ),
  { minLength: 1, maxLength: 6 },
);

describe('the change stream', () => {
  it('resumes after random disconnects with every change, in token order, with no gap', async () => {
    await append([0, 1, 2].map((sku) => productCreated(`cs-sku-${sku}`, 100, 'change-stream')));
    await fc.assert(
      fc.asyncProperty(fc.array(batchArbitrary, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }), fc.boolean(), async (batches, cuts, useSse) => {
        round++;
        const start = service.changes!.log.last();
        const from = start ? `${start.token}.${start.seq}` : encodeToken(service.views.frontier());
        let token = '';
        for (const batch of batches) {
          token = await append(
            batch.map((action) =>
              action.kind === 'add'
                ? cartChange('added', `cs-${round}-${action.customer}`, `cs-sku-${action.sku}`, 1)
                : retailEvent('retail.product.price-changed', `cs-sku-${action.sku}`, { sku: `cs-sku-${action.sku}`, price: action.price }),
            ),
          );
        }
        await service.views.waitFor(decodeToken(token), 10_000);
        await service.changes!.settled();
        const lastSeq = service.changes!.log.last()!.seq;
        const everything = await consume('ndjson', from, Number.MAX_SAFE_INTEGER, lastSeq);

        const resumed: Received[] = [];
        let after = from;
        for (let cut = 0; resumed.length === 0 || seqOf(resumed[resumed.length - 1]!.id) < lastSeq; cut++) {
          const part = await consume(useSse ? 'sse' : 'ndjson', after, cuts[cut % cuts.length]!, lastSeq);
          if (part.length === 0) break;
          resumed.push(...part);
          after = part[part.length - 1]?.id ?? after;
        }
        expect(resumed).toEqual(everything);
        // No gap: the stream of both views is the whole log, seq after seq.
        const firstSeq = seqOf(everything[0]!.id);
        expect(everything.map(({ id }) => seqOf(id))).toEqual(everything.map((_, index) => firstSeq + index));
        for (let i = 1; i < everything.length; i++) expect(frontierCovers(decodeToken(everything[i]!.token), decodeToken(everything[i - 1]!.token))).toBe(true);
        // The last change of each key is the view's value now.
        const last = new Map(everything.map((change) => [`${change.view}/${change.key}`, change]));
        for (const change of last.values()) expect(change.value).toEqual((await service.views.read(change.view, change.key)).value);
        for (const customer of new Set(batches.flat().flatMap((action) => (action.kind === 'add' ? [`cs-${round}-${action.customer}`] : [])))) {
          expect(last.has(`cart/${customer}`)).toBe(true);
        }
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it('answers 410 changes_expired for a resume point older than what is kept', async () => {
    const smallDir = await mkdtemp(join(tmpdir(), 'foldline-changes-small-'));
    const small = await startService(retailServiceOptions(smallDir, { shards: 1, changeViews: ['cart'], changeLog: { maxChanges: 3, maxAgeMs: 60_000 } }));
    try {
      await small.changes!.ready;
      const before = encodeToken(small.views.frontier());
      let token = '';
      for (const customer of ['x-1', 'x-2', 'x-3', 'x-4', 'x-5']) token = await appendTo(small, [cartChange('added', customer, 'sku-1', 1)]);
      await small.views.waitFor(decodeToken(token), 10_000);
      await small.changes!.settled();
      const first = small.changes!.log.since(0)[0]!;
      for (const after of [before, `${first.token}.${first.seq - 1}`]) {
        const response = await fetch(`${small.url}/v1/changes?view=cart&after=${encodeURIComponent(after)}`);
        expect(response.status).toBe(410);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('changes_expired');
      }
      const unknown = await fetch(`${small.url}/v1/changes?view=product`);
      expect([unknown.status, ((await unknown.json()) as { error: { code: string; path: string } }).error]).toEqual([400, expect.objectContaining({ code: 'not_streamed', path: '/view' })]);
    } finally {
      await small.close();
      await rm(smallDir, { recursive: true, force: true });
    }
  }, 30_000);
});

async function appendTo(target: Service, events: Array<Record<string, unknown>>): Promise<string> {
  const response = await fetch(`${target.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(events) });
  return ((await response.json()) as { token: string }).token;
}
