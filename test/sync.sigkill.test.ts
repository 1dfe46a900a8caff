import { rm } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../cli/serverProcess.js';
import type { CloudEvent } from '../ledger/types.js';
import { cartDocumentSource } from '../retail/cartDocument.js';
import { runFoldline } from './support/cliProcess.js';
import { cartCounters, SimulatedDevice, waitFor, type CartEdit } from './support/syncDevice.js';
import { cartCounts, cartDocumentUrl } from './support/syncServer.js';

/*
 * Invariant 3 of the offline issue: a SIGKILL of `foldline start` at any point of a sync
 * neither loses an edit nor appends one twice, once it restarts and the device syncs again.
 * Each round, a device edits offline, connects, and the server is killed a few milliseconds
 * into the sync (before, between and after its appends and its debounced document save).
 */

const killDelaysMs = [0, 5, 15, 40, 120];
const syncUrlOf = (server: ServerProcess): string => `${server.url.replace('http', 'ws')}/v1/sync`;
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.stop();
});

async function sigkill(child: ServerProcess['child']): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

it(`neither loses nor repeats an edit across ${killDelaysMs.length} SIGKILLs mid-sync`, async () => {
  server = await startServer();
  const { dataDir } = server;
  const customerId = 'c-killed';
  const url = await cartDocumentUrl(server.url, customerId);
  const device = new SimulatedDevice(url, syncUrlOf(server));
  await device.online(async () => {});
  const edits: CartEdit[] = [];
  for (const [round, delay] of killDelaysMs.entries()) {
    const offline = Array.from({ length: 8 }, (_, i): CartEdit => ({ sku: `sku-${(round + i) % 3}`, amount: i % 4 === 3 ? -1 : 1 + (i % 3) }));
    await device.editOffline(offline);
    edits.push(...offline);
    const killed = server.child;
    await device.online(async () => {
      await new Promise((resolve) => setTimeout(resolve, delay));
      await sigkill(killed);
    });
    server = await startServer({ dataDir });
    device.syncUrl = syncUrlOf(server);
  }

  const expected: Record<string, number> = {};
  for (const { sku, amount } of edits) expected[sku] = (expected[sku] ?? 0) + amount;
  const base = server.url;
  const synced = await device.online((handle) =>
    waitFor(
      'the view and the device to count every edit',
      async () => {
        const view = await cartCounts(base, customerId);
        return JSON.stringify(view) === JSON.stringify(expected) && JSON.stringify(cartCounters(handle.doc())) === JSON.stringify(expected) ? view : undefined;
      },
      20_000,
    ),
  );
  expect(synced).toEqual(expected);
  await server.stop({ keepData: true });
  server = undefined;

  const events: CloudEvent[] = [];
  for (let shard = 0; shard < 4; shard++) {
    const read = await runFoldline(['ledger', 'read', '--data', dataDir, '--stream', 'customer', '--shard', String(shard)]);
    expect(read.code).toBe(0);
    for (const line of read.stdout.split('\n').filter(Boolean)) events.push((JSON.parse(line) as { event: CloudEvent }).event);
  }
  const fromDevice = events.filter((event) => event.source === cartDocumentSource && event.subject === customerId);
  expect(fromDevice).toHaveLength(edits.length);
  expect(new Set(fromDevice.map((event) => event.id)).size).toBe(edits.length);
  await rm(dataDir, { recursive: true, force: true });
}, 120_000);
