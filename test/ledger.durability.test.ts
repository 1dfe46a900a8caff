import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serviceNodeFlags } from '../cli/heapFlags.js';
import { canonicalJson, positionKey } from '../crdt/index.js';
import { EmbeddedLedger } from '../ledger/embeddedLedger.js';
import type { CloudEvent, LedgerRecord, Receipt } from '../ledger/types.js';
import { retailRouter } from '../retail/catalogue.js';
import { Random } from '../retail/random.js';

const cli = fileURLToPath(new URL('../bin/foldline.js', import.meta.url));
const kills = 20;

function cartEvent(n: number): CloudEvent {
  const customerId = `c${n % 37}`;
  return {
    specversion: '1.0',
    id: `d${n}`,
    source: 'durability-test',
    type: n % 5 === 0 ? 'retail.product.price-changed' : 'retail.cart.item-added',
    time: new Date(Date.UTC(2024, 0, 1) + n).toISOString(),
    subject: n % 5 === 0 ? `sku-${n % 11}` : customerId,
    data: n % 5 === 0 ? { sku: `sku-${n % 11}`, price: n } : { customerId, sku: `sku-${n % 11}`, quantity: 1 + (n % 3) },
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foldline-durability-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs `foldline ledger append` on `dir`, feeding it new and already sent events, and
 * SIGKILLs it at a random moment after its first receipt. Returns the receipts it printed
 * completely before it died.
 */
async function appendUntilKilled(next: () => number, resend: () => number | undefined, rand: () => number): Promise<Receipt[]> {
  // With the flags bin/foldline.js would otherwise start another node with: the process killed is the one appending.
  const child = spawn(process.execPath, [...serviceNodeFlags, cli, 'ledger', 'append', '--data', dir, '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.on('error', () => {}); // EPIPE once it is killed
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  let firstReceipt: () => void = () => {};
  const printed = new Promise<void>((resolve) => (firstReceipt = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    firstReceipt();
  });
  let alive = true;
  const feeding = (async () => {
    while (alive) {
      const lines: string[] = [];
      const size = 1 + Math.floor(rand() * 100);
      for (let i = 0; i < size; i++) lines.push(JSON.stringify(cartEvent(rand() < 0.1 ? (resend() ?? next()) : next())));
      // Wait for the child to take the lines in: a pipe backlog would only slow its start.
      if (!child.stdin.write(`${lines.join('\n')}\n`)) await Promise.race([new Promise((resolve) => child.stdin.once('drain', resolve)), exited]);
      await new Promise((resolve) => setTimeout(resolve, rand() * 20));
    }
  })();
  await Promise.race([printed, exited]);
  await new Promise((resolve) => setTimeout(resolve, rand() * 150));
  child.kill('SIGKILL');
  await exited;
  alive = false;
  await feeding;
  // A line cut by the kill was not printed.
  return output
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as Receipt);
}

it(`keeps every acknowledged append across ${kills} SIGKILLs of the appending process`, async () => {
  const seed = Date.now();
  const generator = new Random(seed);
  const rand = (): number => generator.next();
  const context = `seed ${seed}`;
  let sent = 0;
  const next = (): number => sent++;
  const resend = (): number | undefined => (sent === 0 ? undefined : Math.floor(rand() * sent));
  const acknowledged = new Map<string, Receipt>();
  let duplicates = 0;

  for (let round = 0; round < kills; round++) {
    for (const receipt of await appendUntilKilled(next, resend, rand)) {
      const first = acknowledged.get(receipt.id);
      if (first) expect({ ...receipt, duplicate: false }, context).toEqual(first);
      else acknowledged.set(receipt.id, { ...receipt, duplicate: false });
      if (receipt.duplicate) duplicates++;
    }
  }
  expect(acknowledged.size, context).toBeGreaterThan(kills);
  expect(duplicates, context).toBeGreaterThan(0);

  const ledger = await EmbeddedLedger.open({ path: join(dir, 'ledger'), route: retailRouter });
  try {
    const records = new Map<string, LedgerRecord>();
    for (const { name, shards } of ledger.streams) {
      for (let shard = 0; shard < shards; shard++) {
        const all = await ledger.read(name, shard, null, Number.MAX_SAFE_INTEGER);
        expect(all.map((r) => r.seq), `${context}: seqs of ${positionKey(name, shard)}`).toEqual(all.map((_, i) => String(i + 1)));
        for (const record of all) {
          const identity = `${record.event.source} ${record.event.id}`;
          expect(records.has(identity), `${context}: ${identity} twice`).toBe(false);
          records.set(identity, record);
          expect(canonicalJson(record.event), context).toBe(canonicalJson(cartEvent(Number(record.event.id.slice(1)))));
        }
      }
    }
    for (const receipt of acknowledged.values()) {
      const record = records.get(`durability-test ${receipt.id}`);
      expect(record, `${context}: acknowledged ${receipt.id} lost`).toBeDefined();
      expect({ stream: record!.stream, shard: record!.shard, seq: record!.seq }, context).toEqual({
        stream: receipt.stream,
        shard: receipt.shard,
        seq: receipt.seq,
      });
    }
  } finally {
    await ledger.close();
  }
  // A safety net, not a speed check: each round starts node with the TypeScript loader,
  // which takes seconds when the machine is busy.
}, 300_000);
