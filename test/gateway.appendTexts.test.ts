import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import type { CloudEvent } from '../ledger/types.js';
import { note, notesStream, startNotesServer, validateNotes } from './support/notesGateway.js';

/* A batch's events are stored as the text they came in only when they are what was validated. */

const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

async function serverWith(validate: (values: unknown[]) => CloudEvent[]): Promise<{ url: string; ledger: EmbeddedLedger }> {
  const dir = await mkdtemp(join(tmpdir(), 'foldline-texts-'));
  const ledger = await EmbeddedLedger.open({ path: dir, streams: [{ name: notesStream, shards: 1 }], route: () => notesStream });
  opened.push(() => rm(dir, { recursive: true, force: true }), () => ledger.close());
  const server = await startNotesServer({ ledger, validate });
  opened.push(() => server.close());
  return { url: server.url, ledger };
}

async function postBatch(url: string, body: string): Promise<number> {
  const response = await fetch(`${url}/v1/events`, { method: 'POST', body, headers: { 'content-type': 'application/cloudevents-batch+json' } });
  await response.text();
  return response.status;
}

const storedTexts = async (ledger: EmbeddedLedger): Promise<unknown[]> => (await ledger.read(notesStream, 0, null)).map((record) => record.event.data.text);

describe('appending a batch with its texts', () => {
  it('stores the events as sent, laid out however, when the validator returns them', async () => {
    const { url, ledger } = await serverWith(validateNotes);
    const events = [note('s', 'a\u2028"b"'), note('s', 'ü')];
    expect(await postBatch(url, `[\n  ${events.map((e) => JSON.stringify(e, null, 2)).join(' ,\n')}\n]`)).toBe(202);
    expect((await ledger.read(notesStream, 0, null)).map((record) => record.event)).toEqual(events);
  });

  it('stores what the validator returned when it returned other objects', async () => {
    const normalizing = (values: unknown[]): CloudEvent[] =>
      validateNotes(values).map((event) => ({ ...event, data: { text: String(event.data.text).toUpperCase() } }));
    const { url, ledger } = await serverWith(normalizing);
    expect(await postBatch(url, JSON.stringify([note('s', 'a'), note('s', 'b')]))).toBe(202);
    expect(await storedTexts(ledger)).toEqual(['A', 'B']);
  });
});
