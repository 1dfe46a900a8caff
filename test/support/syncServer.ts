import type { AutomergeUrl } from '@automerge/automerge-repo';
import type { Ledger } from '../../ledger/types.js';
import type { CloudEvent } from '../../ledger/types.js';
import { cartDocumentSource } from '../../retail/cartDocument.js';

const auth = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

export async function getJson(url: string, token?: string): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { headers: auth(token) });
  return { status: response.status, json: await response.json() };
}

export async function postEvents(base: string, events: unknown[], token?: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}/v1/events`, {
    method: 'POST',
    body: JSON.stringify(events),
    headers: { 'content-type': 'application/cloudevents-batch+json', ...auth(token) },
  });
  return { status: response.status, json: await response.json() };
}

/** A customer's cart document URL, as a device asks for it. */
export async function cartDocumentUrl(base: string, customerId: string, token?: string): Promise<AutomergeUrl> {
  const { status, json } = await getJson(`${base}/v1/carts/${encodeURIComponent(customerId)}/document`, token);
  if (status !== 200) throw new Error(`GET document: ${status} ${JSON.stringify(json)}`);
  return json.url;
}

/** The `cart-counts` view of a customer, zeros left out. */
export async function cartCounts(base: string, customerId: string, token?: string): Promise<Record<string, number>> {
  const { json } = await getJson(`${base}/v1/views/cart-counts/${encodeURIComponent(customerId)}`, token);
  const counts: Record<string, number> = {};
  for (const [sku, n] of Object.entries(json.value.quantities as Record<string, number>).sort(([a], [b]) => (a < b ? -1 : 1))) if (n !== 0) counts[sku] = n;
  return counts;
}

/** Every cart event made from a customer's document changes, in ledger order per shard. */
export async function documentEvents(ledger: Ledger, customerId: string, shards = 4): Promise<CloudEvent[]> {
  const events: CloudEvent[] = [];
  for (let shard = 0; shard < shards; shard++) {
    for (const { event } of await ledger.read('customer', shard, null, 100_000)) {
      if (event.source === cartDocumentSource && event.subject === customerId) events.push(event);
    }
  }
  return events;
}
