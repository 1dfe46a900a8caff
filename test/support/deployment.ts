import { expect } from 'vitest';
import { canonicalJson } from '../../crdt/index.js';

/** Posts a batch of events to a gateway; the token of its acknowledgement. */
export async function postBatch(url: string, events: readonly unknown[]): Promise<string> {
  const response = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(events) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { token: string }).token;
}

/** A view key's value as canonical JSON, read with a token (waiting up to 30 s for it). */
export async function viewText(url: string, view: string, key: string, token: string): Promise<string> {
  const response = await fetch(`${url}/v1/views/${view}/${encodeURIComponent(key)}?after=${token}&wait=30000`);
  expect(response.status).toBe(200);
  return canonicalJson(((await response.json()) as { value: unknown }).value);
}

/** Every view key reads the same on two servers, each with its own token (50 reads at a time). */
export async function expectSameViews(keys: ReadonlyArray<[string, string]>, a: { url: string; token: string }, b: { url: string; token: string }): Promise<void> {
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(
      keys.slice(i, i + 50).map(async ([view, key]) => {
        expect(await viewText(a.url, view, key, a.token), `${view}/${key}`).toBe(await viewText(b.url, view, key, b.token));
      }),
    );
  }
}
