import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../gateway/auth/jwt.js';
import { startService, type Service } from '../service/service.js';
import { domain as library } from './support/library/domain.js';
import type { Shelf } from './support/library/model.js';
import { LiveClient } from './support/liveClient.js';

/*
 * The engine serves a domain other than retail, unchanged: a lending library (two streams,
 * a view joining them, its own roles) behind `startService` with the embedded backends and
 * the fold worker, over HTTP and WebSocket, with auth on.
 */
const secret = 'library-test-secret-of-at-least-32-bytes';
let service: Service;
let dataDir: string;
let librarian: string;
let ada: string;
let bob: string;
let counter = 0;

function event(type: string, subject: string, data: Record<string, string>): Record<string, unknown> {
  counter++;
  return { specversion: '1.0', id: `lib-${counter}`, source: 'test/library', type, time: new Date(Date.UTC(2025, 0, 1) + counter).toISOString(), subject, data };
}
const bookAdded = (isbn: string, title: string) => event('library.book.added', isbn, { isbn, title });
const borrowed = (memberId: string, isbn: string) => event('library.loan.borrowed', memberId, { memberId, isbn });
const returned = (memberId: string, isbn: string) => event('library.loan.returned', memberId, { memberId, isbn });

function post(events: unknown[], token: string): Promise<Response> {
  return fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
  });
}

async function shelf(memberId: string, token: string, after?: string): Promise<{ status: number; body: { value?: Shelf; error?: { code: string } } }> {
  const query = after === undefined ? '' : `?after=${after}`;
  const response = await fetch(`${service.url}/v1/views/shelf/${memberId}${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as { value?: Shelf; error?: { code: string } } };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'foldline-library-'));
  service = await startService({ domain: library, dataDir, host: '127.0.0.1', port: 0, shards: 2, authSecret: secret, logger: pino({ level: 'silent' }) });
  [librarian, ada, bob] = await Promise.all([
    signToken(secret, { sub: 'lib-1', role: 'librarian' }, 600),
    signToken(secret, { sub: 'ada', role: 'member' }, 600),
    signToken(secret, { sub: 'bob', role: 'member' }, 600),
  ]);
});

afterAll(async () => {
  await service?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a second domain on the same engine', () => {
  it('joins loans with titles across its two streams, whichever lands first, over HTTP', async () => {
    // The loan arrives before the book exists: the join fills the title in when it lands.
    const loan = await post([borrowed('ada', '978-0'), borrowed('ada', '978-1'), returned('ada', '978-1')], ada);
    expect(loan.status).toBe(202);
    const { token } = (await loan.json()) as { token: string };
    expect((await shelf('ada', ada, token)).body.value).toEqual({ memberId: 'ada', books: [{ isbn: '978-0', title: null, copies: 1 }] });

    const book = await post([bookAdded('978-0', 'Lovelace Notes')], librarian);
    const after = ((await book.json()) as { token: string }).token;
    expect((await shelf('ada', ada, after)).body.value).toEqual({ memberId: 'ada', books: [{ isbn: '978-0', title: 'Lovelace Notes', copies: 1 }] });
  });

  it('pushes the joined view over WebSocket when the other stream changes it', async () => {
    const client = await LiveClient.open(`${service.url.replace('http', 'ws')}/v1/live?access_token=${ada}`);
    try {
      client.send({ op: 'subscribe', view: 'shelf', key: 'ada' });
      await client.next((frame) => frame.op === 'view' && frame.key === 'ada');
      expect((await post([bookAdded('978-0', 'Lovelace Notes, 2nd ed.')], librarian)).status).toBe(202);
      const pushed = await client.next((frame) => frame.op === 'view' && (frame.value as Shelf).books[0]?.title === 'Lovelace Notes, 2nd ed.');
      expect(pushed.value).toEqual({ memberId: 'ada', books: [{ isbn: '978-0', title: 'Lovelace Notes, 2nd ed.', copies: 1 }] });
    } finally {
      client.close();
    }
  });

  it('applies its own roles: members see and change only their own shelf, other roles are refused', async () => {
    expect((await shelf('ada', bob)).status).toBe(403);
    const stranger = await post([borrowed('ada', '978-0')], bob);
    expect([stranger.status, ((await stranger.json()) as { error: { code: string; path: string } }).error]).toMatchObject([403, { code: 'forbidden', path: '/subject' }]);
    const notAMember = await post([bookAdded('978-9', 'Forged')], bob);
    expect(notAMember.status).toBe(403);
    // A retail role means nothing here.
    const customer = await signToken(secret, { sub: 'ada', role: 'customer' }, 600);
    expect((await shelf('ada', customer)).status).toBe(401);
    const metrics = (token: string) => fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect([await metrics(ada), await metrics(librarian)]).toEqual([403, 200]);
  });

  it('refuses its invalid events with their index and path, appending none of the batch', async () => {
    const bad = await post([borrowed('bob', '978-0'), { ...borrowed('bob', '978-1'), data: { memberId: 'bob' } }], bob);
    expect([bad.status, ((await bad.json()) as { error: unknown }).error]).toEqual([
      400,
      { code: 'invalid_event', message: 'event 1: /data/isbn must be a non-empty string', index: 1, path: '/data/isbn' },
    ]);
    expect((await shelf('bob', bob)).body.value).toEqual({ memberId: 'bob', books: [] });
  });
});

describe('the generic engine', () => {
  it('names neither retail nor the library domain', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const engine = ['base', 'crdt', 'ledger', 'projections', 'joiner', 'gateway', 'service'];
    const naming: string[] = [];
    for (const folder of engine) {
      for (const file of await readdir(join(root, folder), { recursive: true })) {
        if (!/\.(ts|js)$/.test(file)) continue;
        const text = await readFile(join(root, folder, file), 'utf8');
        if (/retail|librarian|library-views|library\.(book|loan)|\bshelf\b/i.test(text)) naming.push(`${folder}/${file}`);
      }
    }
    expect(naming).toEqual([]);
  });
});
