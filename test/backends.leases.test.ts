import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DynamoStore } from '../backends/dynamodb/dynamoStore.js';
import { ShardLeases, type HeldLeases } from '../backends/dynamodb/leases.js';
import { frontier } from '../crdt/index.js';
import type { EntityRecord, StateCommit } from '../projections/types.js';
import { useDynalite } from './support/emulators.js';

const dynamoEndpoint = useDynalite();
let serial = 0;

const logger = pino({ level: 'silent' });
const positions = ['orders/0', 'orders/1', 'orders/2', 'orders/3'];
const failoverMs = 300;

function where(name: string) {
  return { endpoint: dynamoEndpoint(), region: 'us-east-1', name, create: true };
}

function leasesOf(name: string, owner: string): Promise<ShardLeases> {
  return ShardLeases.open({ ...where(name), consumer: 'c', owner, positions, failoverMs, logger });
}

/** Starts `leases`, resolving each time its held set satisfies `wanted`. */
function heldUntil(leases: ShardLeases): { next: (wanted: (held: HeldLeases) => boolean) => Promise<HeldLeases> } {
  let latest: HeldLeases = new Map();
  const waiters = new Set<() => void>();
  leases.start((held) => {
    latest = held;
    for (const wake of waiters) wake();
  });
  return {
    next: async (wanted) => {
      while (!wanted(latest)) await new Promise<void>((resolve) => waiters.add(resolve));
      return latest;
    },
  };
}

function record(state: number[], position: string, seq: string): EntityRecord {
  const f = frontier();
  f[position] = seq;
  return { state, frontier: f };
}

function commitOf(entities: StateCommit['entities'], position: string, seq: string): StateCommit {
  const f = frontier();
  f[position] = seq;
  return { consumer: 'c', entities, checkpoint: { frontier: f, recentIds: [] }, deadLetters: [] };
}

describe('shard leases', () => {
  it("split the shards between processes, and hand a dead one's to the living", async () => {
    const name = `leases-${++serial}`;
    const [a, b] = await Promise.all([leasesOf(name, 'a'), leasesOf(name, 'b')]);
    const [heldA, heldB] = [heldUntil(a), heldUntil(b)];
    const splitA = await heldA.next((held) => held.size === 2);
    const splitB = await heldB.next((held) => held.size === 2);
    expect(new Set([...splitA.keys(), ...splitB.keys()])).toEqual(new Set(positions));
    // a dies: it stops renewing without giving its leases up.
    await a.stop(false);
    // (How long that takes is measured by `npm run bench -- backends`.)
    const all = await heldB.next((held) => held.size === 4);
    // Every lease taken from a was fenced anew.
    for (const [position, fence] of splitA) expect(all.get(position)).toBe(fence + 1);
    await b.stop(true);
  });

  it('refuse every write of a process whose lease was taken, before it writes anything', async () => {
    const name = `fence-${++serial}`;
    const a = await leasesOf(name, 'a');
    const fencesA = Object.fromEntries(await heldUntil(a).next((held) => held.size === 4));
    const storeA = await DynamoStore.open({ ...where(name), fences: fencesA });
    await storeA.commit(commitOf([{ namespace: 'ns', key: 'k', record: record([1], 'orders/0', '1') }], 'orders/0', '1'));
    // a stalls (a long pause, a partition): b takes its leases over.
    await a.stop(false);
    const b = await leasesOf(name, 'b');
    const fencesB = Object.fromEntries(await heldUntil(b).next((held) => held.size === 4));
    const storeB = await DynamoStore.open({ ...where(name), fences: fencesB });

    const late = storeA.commit(commitOf([{ namespace: 'ns', key: 'k', record: record([1, 2], 'orders/0', '2') }], 'orders/0', '2'));
    await expect(late).rejects.toMatchObject({ code: 'fenced' });
    expect((await storeB.get<number[]>('ns', 'k'))!.state).toEqual([1]);
    expect((await storeB.checkpoint('c'))!.frontier).toEqual({ 'orders/0': '1' });

    await storeB.commit(commitOf([{ namespace: 'ns', key: 'k', record: record([1, 3], 'orders/0', '3') }], 'orders/0', '3'));
    expect((await storeB.checkpoint('c'))!.frontier).toEqual({ 'orders/0': '3' });
    await Promise.all([storeA.close(), storeB.close(), b.stop(true)]);
  });
});

describe('versioned entity writes', () => {
  it('merge the states of two processes that fold into one entity at once', async () => {
    const name = `merge-${++serial}`;
    const union = (x: unknown, y: unknown): unknown => [...new Set([...(x as number[]), ...(y as number[])])].sort();
    const [one, two] = await Promise.all([DynamoStore.open(where(name), () => union), DynamoStore.open(where(name), () => union)]);
    const commits = Array.from({ length: 10 }, (_, i) => {
      const position = `orders/${i % 2}`;
      return (i % 2 ? one : two).commit(commitOf([{ namespace: 'ns', key: 'shared', record: record([i], position, String(i + 1)) }], position, String(i + 1)));
    });
    await Promise.all(commits);
    const stored = await one.get<number[]>('ns', 'shared');
    expect(stored!.state).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].sort());
    expect(stored!.frontier).toEqual({ 'orders/0': '9', 'orders/1': '10' });
    await Promise.all([one.close(), two.close()]);
  });
});
