import type { AutomergeUrl } from '@automerge/automerge-repo';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../projections/memoryStore.js';
import { cartDocument, type CartDocument } from '../retail/cartDocument.js';
import { startRetailServer, type RetailServer } from './support/retailGateway.js';
import { cartCounters, SimulatedDevice, type CartEdit } from './support/syncDevice.js';
import { cartCounts, cartDocumentUrl, documentEvents } from './support/syncServer.js';

/*
 * Invariant 6 of DESIGN.md: devices that edit the same cart offline and sync in any order
 * end with the same document, and it agrees with the `cart` view (its counts before
 * clamping, the `cart-counts` view), and the ledger learns every edit exactly once. Two to
 * five devices (stock automerge-repo Repos with storage of their own) make random offline
 * edits, among them concurrent first edits of one sku, and reconnect in random orders; the
 * server drops each document soon after its last device leaves, so syncs also load it again.
 */

let server: RetailServer;
let run = 0;

beforeAll(async () => {
  server = await startRetailServer({ documents: { mapping: cartDocument, store: new MemoryStore(), idleMs: 20 } });
});
afterAll(async () => {
  await server.close();
});

const edit: fc.Arbitrary<CartEdit> = fc.record({
  sku: fc.constantFrom('sku-a', 'sku-b', 'sku-c'),
  amount: fc.integer({ min: -3, max: 5 }).filter((n) => n !== 0),
});

const scenario = fc.integer({ min: 2, max: 5 }).chain((devices) =>
  fc.record({
    devices: fc.constant(devices),
    steps: fc.array(fc.record({ device: fc.nat(devices - 1), edits: fc.array(edit, { minLength: 1, maxLength: 3 }), sync: fc.boolean() }), { minLength: 1, maxLength: 6 }),
    reconnect: fc.shuffledSubarray([...Array(devices).keys()], { minLength: devices, maxLength: devices }),
  }),
);

/** What every edit adds up to, per sku, zeros left out. */
function expectedCounts(edits: readonly CartEdit[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const { sku, amount } of edits) sums[sku] = (sums[sku] ?? 0) + amount;
  return Object.fromEntries(Object.entries(sums).filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('invariant 6: offline cart documents', () => {
  it('end equal on every device, equal to the view, with one cart event per edit', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ devices: count, steps, reconnect }) => {
        const customerId = `c-offline-${++run}`;
        const url: AutomergeUrl = await cartDocumentUrl(server.url, customerId);
        const serverHeads = (): string[] | undefined => server.gateway.documents!.heads(url);
        const devices = Array.from({ length: count }, () => new SimulatedDevice(url, `ws://127.0.0.1:${server.gateway.port}/v1/sync`));
        for (const device of devices) await device.sync(serverHeads);

        const edits: CartEdit[] = [];
        for (const step of steps) {
          await devices[step.device]!.editOffline(step.edits);
          edits.push(...step.edits);
          if (step.sync) await devices[step.device]!.sync(serverHeads);
        }
        for (const index of reconnect) await devices[index]!.sync(serverHeads);

        // Sync round after round until the server has folded every edit and every device has its copy.
        const expected = expectedCounts(edits);
        let documents: CartDocument[] = [];
        let view: Record<string, number> = {};
        for (let round = 0; round < 20; round++) {
          documents = [];
          for (const device of devices) documents.push(await device.sync(serverHeads));
          view = await cartCounts(server.url, customerId);
          if (documents.every((doc) => JSON.stringify(cartCounters(doc)) === JSON.stringify(view)) && JSON.stringify(view) === JSON.stringify(expected)) break;
        }
        for (const doc of documents) expect(cartCounters(doc)).toEqual(expected);
        expect(view).toEqual(expected);
        expect(await documentEvents(server.ledger, customerId)).toHaveLength(edits.length);
      }),
      {
        numRuns: 8,
        // Offline +3 and -3 of one sku, synced together: changes whose net diff is empty.
        examples: [[{ devices: 4, steps: [{ device: 0, edits: [{ sku: 'sku-b', amount: 1 }, { sku: 'sku-a', amount: 1 }], sync: true }, { device: 0, edits: [{ sku: 'sku-b', amount: 3 }, { sku: 'sku-b', amount: -3 }], sync: false }, { device: 1, edits: [{ sku: 'sku-a', amount: 1 }], sync: false }], reconnect: [3, 1, 2, 0] }]],
      },
    );
  });
});
