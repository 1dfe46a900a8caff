import { describe, expect, it } from 'vitest';
import { SharedHead } from '../projections/sharedHead.js';

const settles = async (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('a shared ledger head', () => {
  it('hands the reader each head the writer publishes, over the same memory, and wakes it on demand', async () => {
    const positions = ['customer/0', 'customer/1', 'product/0'];
    const writer = new SharedHead(positions);
    const reader = new SharedHead(positions, writer.buffer);
    const first = reader.next(0);
    expect(await settles(first, 30)).toBe(false);
    writer.publish({ 'customer/1': '7', 'product/0': '9007199254740993' });
    const { generation, head } = await first;
    expect(generation).toBe(1);
    expect({ ...head }).toEqual({ 'customer/1': '7', 'product/0': '9007199254740993' });
    // Published before the reader asked: no wait.
    writer.publish({ 'customer/0': '1', 'customer/1': '8' });
    expect({ ...(await reader.next(generation)).head }).toEqual({ 'customer/0': '1', 'customer/1': '8', 'product/0': '9007199254740993' });
    const idle = reader.next(2);
    reader.wake();
    expect((await idle).generation).toBe(2);
  });
});
