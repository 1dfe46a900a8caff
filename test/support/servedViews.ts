import { expect } from 'vitest';
import { canonicalJson } from '../../crdt/index.js';
import { encodeToken } from '../../ledger/token.js';
import type { CloudEvent } from '../../ledger/types.js';
import { retailDomain } from '../../retail/domain.js';
import type { Domain } from '../../service/domain.js';
import { startService, type Service } from '../../service/service.js';
import { retailServiceOptions } from './retailService.js';

/*
 * A retail service on a data directory, its views read over HTTP once they reflect the
 * ledger's head, and the check the rebuild tests end with: after more live events, its views
 * equal those of a service that saw every event live.
 */

/** A quiet service on DATA with the ledgers' layout of the rebuild tests (4 shards). */
export function startOn(data: string, domain: Domain = retailDomain): Promise<Service> {
  return startService(retailServiceOptions(data, { domain, shards: 4 }));
}

export async function appendInBatches(service: Service, events: readonly CloudEvent[]): Promise<void> {
  for (let at = 0; at < events.length; at += 500) await service.ledger.append(events.slice(at, at + 500));
}

/** Each view key's value (canonical JSON), read with the token of the ledger's head. */
export async function servedViews(service: Service, keys: ReadonlyArray<[string, string]>): Promise<Record<string, string>> {
  const token = encodeToken(await service.ledger.head());
  const out: Record<string, string> = {};
  for (const [view, key] of keys) {
    const response = await fetch(`${service.url}/v1/views/${view}/${encodeURIComponent(key)}?after=${token}&wait=20000`);
    expect(response.status).toBe(200);
    out[`${view}/${key}`] = canonicalJson(((await response.json()) as { value: unknown }).value);
  }
  return out;
}

/** Appends `later` to the service, then expects its views to equal a fresh service's on `referenceDir` that was given `all`; closes both. */
export async function expectViewsAsIfAllLive(service: Service, later: readonly CloudEvent[], all: readonly CloudEvent[], referenceDir: string, keys: ReadonlyArray<[string, string]>): Promise<void> {
  try {
    await appendInBatches(service, later);
    const reference = await startOn(referenceDir);
    try {
      await appendInBatches(reference, all);
      expect(await servedViews(service, keys)).toEqual(await servedViews(reference, keys));
    } finally {
      await reference.close();
    }
  } finally {
    await service.close();
  }
}
