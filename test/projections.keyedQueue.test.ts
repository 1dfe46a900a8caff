import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../projections/keyedQueue.js';

/** Lets other tasks run for `turns` macrotask turns. */
async function work(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('KeyedQueue', () => {
  it('runs one key in submission order and different keys side by side', async () => {
    const queue = new KeyedQueue({ concurrency: 4 });
    const log: string[] = [];
    const task = (name: string, turns: number) => async () => {
      log.push(`start ${name}`);
      await work(turns);
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([queue.push('a', task('a1', 3)), queue.push('a', task('a2', 1)), queue.push('b', task('b1', 1))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('rejects only the failing task; the key goes on', async () => {
    const queue = new KeyedQueue({ concurrency: 1 });
    const failing = queue.push('k', () => {
      throw new Error('boom');
    });
    const next = queue.push('k', async () => 'after');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('after');
    await queue.onIdle();
    expect(queue.pending).toBe(0);
  });

  it('makes push wait for room beyond maxPending, in submission order', async () => {
    const queue = new KeyedQueue({ concurrency: 2, maxPending: 2 });
    const started: number[] = [];
    const all = Array.from({ length: 6 }, (_, i) =>
      queue.push(`k${i % 3}`, async () => {
        started.push(i);
        expect(queue.pending).toBeLessThanOrEqual(2);
        await work(1);
      }),
    );
    expect(queue.pending).toBe(2);
    await queue.space();
    expect(queue.pending).toBeLessThan(2);
    await Promise.all(all);
    await queue.onIdle();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses a concurrency below one', () => {
    expect(() => new KeyedQueue({ concurrency: 0 })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });

  it('keeps per-key order and the concurrency limit for any tasks (property)', async () => {
    const tasks = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', '__proto__'), turns: fc.nat({ max: 3 }), fails: fc.boolean() }), { maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(tasks, fc.integer({ min: 1, max: 4 }), fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }), async (list, concurrency, maxPending) => {
        const queue = new KeyedQueue({ concurrency, ...(maxPending === undefined ? {} : { maxPending }) });
        let running = 0;
        let peak = 0;
        const runningKeys = new Set<string>();
        const order = new Map<string, number[]>();
        const outcomes = list.map(({ key, turns, fails }, i) =>
          queue
            .push(key, async () => {
              expect(runningKeys.has(key)).toBe(false);
              runningKeys.add(key);
              peak = Math.max(peak, ++running);
              order.set(key, [...(order.get(key) ?? []), i]);
              await work(turns);
              running--;
              runningKeys.delete(key);
              if (fails) throw new Error(`task ${i}`);
              return i;
            })
            .then(
              (value) => value,
              (error: Error) => error.message,
            ),
        );
        await queue.onIdle();
        expect(await Promise.all(outcomes)).toEqual(list.map(({ fails }, i) => (fails ? `task ${i}` : i)));
        expect(peak).toBeLessThanOrEqual(concurrency);
        for (const [key, indexes] of order) expect(indexes).toEqual(list.flatMap((t, i) => (t.key === key ? [i] : [])));
      }),
      { numRuns: 1000 },
    );
  });
});
