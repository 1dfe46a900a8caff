import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontierCovers } from '../crdt/index.js';
import { decodeToken } from '../ledger/token.js';
import { maxNotesKey, note, startNotesServer, type NotesServer } from './support/notesGateway.js';

/* Write-through appends: `POST /v1/events?await=view/key` answers once the views reflect the append. */

let server: NotesServer;
beforeAll(async () => {
  server = await startNotesServer({ limits: { maxWaitMs: 1000 } });
});
afterAll(async () => {
  await server.close();
});

async function post(target: NotesServer, events: unknown[], query: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${target.url}/v1/events${query}`, {
    method: 'POST',
    body: JSON.stringify(events),
    headers: { 'content-type': 'application/cloudevents-batch+json' },
  });
  return { status: response.status, json: await response.json() };
}

const textsOf = async (target: NotesServer, key: string): Promise<string[]> =>
  ((await (await fetch(`${target.url}/v1/views/notes/${encodeURIComponent(key)}`)).json()) as { value: { texts: string[] } }).value.texts;

describe('POST /v1/events?await=', () => {
  it('answers 200 with the receipts, the token and every awaited view reflecting the append', async () => {
    for (let i = 0; i < 20; i++) {
      const { status, json } = await post(server, [note(`wt-${i}`, 'a'), note('wt/other key', `b${i}`)], `?await=notes/wt-${i}&await=notes/wt%2Fother%20key`);
      expect(status).toBe(200);
      expect(json.receipts).toHaveLength(2);
      expect(json.views.map((v: { key: string }) => v.key)).toEqual([`wt-${i}`, 'wt/other key']);
      expect(json.views[0].value.texts).toEqual(['a']);
      expect(json.views[1].value.texts).toContain(`b${i}`);
      for (const view of json.views) expect(frontierCovers(decodeToken(view.token), decodeToken(json.token))).toBe(true);
    }
  });

  it('refuses a malformed or unknown await before appending anything', async () => {
    for (const [query, status, code] of [
      ['?await=notes', 400, 'bad_await'],
      ['?await=notes/', 400, 'bad_await'],
      ['?await=/k', 400, 'bad_await'],
      ['?await=nothing/k', 404, 'unknown_view'],
      [`?await=notes/${'k'.repeat(maxNotesKey + 1)}`, 400, 'bad_key'],
      [`?${Array.from({ length: 17 }, (_, i) => `await=notes/k${i}`).join('&')}`, 400, 'bad_await'],
      ['?await=notes/wt-refused&wait=soon', 400, 'bad_wait'],
    ] as const) {
      const answer = await post(server, [note('wt-refused', query)], query);
      expect({ query, status: answer.status, code: answer.json.error.code }).toEqual({ query, status, code });
    }
    expect(await textsOf(server, 'wt-refused')).toEqual([]);
  });

  it('answers 503 not_caught_up when the views lag, saying the append is durable and giving its receipts', async () => {
    const lagging = await startNotesServer({ limits: { maxWaitMs: 1000 } });
    try {
      // No folding: the views can never reflect the append.
      await lagging.runtime.stop();
      const event = note('wt-lag', 'kept');
      const { status, json } = await post(lagging, [event], '?await=notes/wt-lag&wait=150');
      expect(status).toBe(503);
      expect(json.error.code).toBe('not_caught_up');
      expect(json.error.message).toContain('durable');
      expect(json.receipts).toEqual([{ id: event.id, stream: 'notes', shard: expect.any(Number), seq: expect.any(String), duplicate: false }]);
      expect(frontierCovers(await lagging.ledger.head(), decodeToken(json.token))).toBe(true);
      // Durable indeed: the same event again is a duplicate of the first.
      const again = await post(lagging, [event], '');
      expect(again.json.receipts[0]).toMatchObject({ duplicate: true, seq: json.receipts[0].seq });
    } finally {
      await lagging.close();
    }
  });
});
