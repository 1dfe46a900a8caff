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

  it('hands the reader the blocks published since it last took them, all or none', async () => {
    const positions = ['customer/0', 'customer/1'];
    const writer = new SharedHead(positions);
    const reader = new SharedHead(positions, writer.buffer);
    const block = (position: string, lastSeq: string, text: string) => ({ position, lastSeq, count: 1, bytes: Buffer.from(text) });
    writer.publish({ 'customer/0': '1' }, [block('customer/0', '1', '["a"]')]);
    writer.publish({ 'customer/0': '1', 'customer/1': '9007199254740993' }, [block('customer/1', '9007199254740993', '["b"]')]);
    const first = await reader.next(0);
    expect(first.blocks.map(({ position, lastSeq, count, bytes }) => [position, lastSeq, count, Buffer.from(bytes).toString()])).toEqual([
      ['customer/0', '1', 1, '["a"]'],
      ['customer/1', '9007199254740993', 1, '["b"]'],
    ]);
    // A block of a position it does not share; a commit whose blocks are too large together to copy: the head only.
    writer.publish({ 'customer/0': '2' }, [block('product/0', '1', '[]')]);
    const half = `[${'1,'.repeat(20_000)}1]`;
    writer.publish({ 'customer/0': '3', 'customer/1': '9007199254740994' }, [block('customer/0', '3', half), block('customer/1', '9007199254740994', half)]);
    const second = await reader.next(first.generation);
    expect(second.blocks).toEqual([]);
    expect(second.head['customer/0']).toBe('3');
  });

  it('hands a reader the writer lapped none of the blocks, though the ring holds whole ones where it stopped', async () => {
    const writer = new SharedHead(['customer/0']);
    const reader = new SharedHead(['customer/0'], writer.buffer);
    // Entries of 16 KiB (with their header): the ring's 1 MiB holds 64, and a lapped reader finds a well-formed entry where it stopped.
    const block = (seq: number) => ({ position: 'customer/0', lastSeq: String(seq), count: 1, bytes: new Uint8Array(16_384 - 20).fill(seq) });
    for (let seq = 1; seq <= 70; seq++) writer.publish({ 'customer/0': String(seq) }, [block(seq)]);
    const lapped = await reader.next(0);
    expect(lapped.blocks).toEqual([]);
    expect(lapped.head['customer/0']).toBe('70');
    writer.publish({ 'customer/0': '71' }, [block(71)]);
    const next = await reader.next(lapped.generation);
    expect(next.blocks.map(({ lastSeq, bytes }) => [lastSeq, bytes[0], bytes.length])).toEqual([['71', 71, 16_364]]);
  });
});
