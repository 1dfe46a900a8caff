import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../projections/keyedQueue.js';
import { Random } from '../../retail/random.js';
import type { BenchReport, BenchRow } from '../report.js';

/*
 * Key-ordered processing against its bounds: 2,000 events over 50 keys, each handled
 * with 2 ms of simulated I/O (a setTimeout). Sequential is the slow bound, unordered (all
 * at once, order ignored) the fast one; key-ordered can at best take the largest key
 * group × the real cost of one 2 ms timer, since keys run side by side.
 */
const events = 2_000;
const keys = 50;
const ioMs = 2;
const concurrency = 64;
const seed = 20_240_601;
/** Key-ordered and unordered runs are repeated and the median kept; sequential runs once (it takes seconds). */
const repeats = 3;

interface Event {
  key: string;
  index: number;
}

const distributions: Record<string, (draw: () => number) => number> = {
  // Every key equally likely.
  uniform: (draw) => Math.floor(draw() * keys),
  // Zipf with s = 1: key i drawn in proportion to 1 / (i + 1), a few hot keys.
  'zipf s=1': (() => {
    const weights = Array.from({ length: keys }, (_, i) => 1 / (i + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    return (draw: () => number) => {
      let left = draw() * total;
      const index = weights.findIndex((w) => (left -= w) < 0);
      return index < 0 ? keys - 1 : index;
    };
  })(),
};

function generate(pick: (draw: () => number) => number): Event[] {
  const generator = new Random(seed);
  const draw = (): number => generator.next();
  return Array.from({ length: events }, (_, index) => ({ key: `key-${pick(draw)}`, index }));
}

async function handle(event: Event, seen: Event[]): Promise<void> {
  await sleep(ioMs);
  seen.push(event);
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** The real cost of one awaited 2 ms timer on this machine now (timers fire late). */
async function timerCost(): Promise<number> {
  const rounds = 200;
  return (await timed(async () => {
    for (let i = 0; i < rounds; i++) await sleep(ioMs);
  })) / rounds;
}

/** The median of `times` runs: one run is at the mercy of whatever else the machine does. */
async function median(times: number, work: () => Promise<void>): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) runs.push(await timed(work));
  return runs.sort((a, b) => a - b)[Math.floor(times / 2)]!;
}

async function keyOrderedRun(batch: readonly Event[], seen: Event[]): Promise<void> {
  const queue = new KeyedQueue({ concurrency });
  await Promise.all(batch.map((event) => queue.push(event.key, () => handle(event, seen))));
}

function assertKeyOrder(seen: readonly Event[]): void {
  const last = new Map<string, number>();
  for (const { key, index } of seen) {
    if ((last.get(key) ?? -1) > index) throw new Error(`key ${key} processed out of order`);
    last.set(key, index);
  }
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  // Warm up the code paths (JIT) before anything is timed.
  await keyOrderedRun(generate(distributions['uniform']!).slice(0, 300), []);
  for (const [name, pick] of Object.entries(distributions)) {
    const batch = generate(pick);
    const groups = new Map<string, number>();
    for (const { key } of batch) groups.set(key, (groups.get(key) ?? 0) + 1);
    const largest = Math.max(...groups.values());

    const seen: Event[] = [];
    const sequential = await timed(async () => {
      for (const event of batch) await handle(event, seen);
    });
    const keyOrdered = await median(repeats, async () => {
      const ordered: Event[] = [];
      await keyOrderedRun(batch, ordered);
      assertKeyOrder(ordered);
    });
    const unordered = await median(repeats, async () => {
      await Promise.all(batch.map((event) => handle(event, [])));
    });
    const cost = await timerCost();
    const ideal = largest * cost;

    const row = (mode: string, ms: number): BenchRow => ({
      distribution: name,
      mode,
      'wall ms': Math.round(ms),
      'events/s': Math.round((events / ms) * 1000),
      'x ideal': Number((ms / ideal).toFixed(3)),
    });
    rows.push(row('sequential', sequential), row('key-ordered', keyOrdered), row('unordered', unordered));
    notes.push(
      `${name}: ${groups.size} keys, largest key group ${largest} events; one ${ioMs} ms timer costs ${cost.toFixed(3)} ms here, so ideal = ${largest} × ${cost.toFixed(3)} = ${ideal.toFixed(1)} ms; key-ordered / ideal = ${(keyOrdered / ideal).toFixed(3)} (target ≤ 1.2)`,
    );
  }
  notes.push(`${events} events, ${keys} keys drawn with seed ${seed}, ${ioMs} ms setTimeout per event, KeyedQueue concurrency ${concurrency}; key-ordered and unordered: median of ${repeats} runs after a warm-up, key order checked after each run`);
  return { suite: 'keyed', rows, notes };
}
