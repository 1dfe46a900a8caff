import { createHash } from 'node:crypto';

const hashSpace = 1n << 128n;
const topSpace = 2 ** 32;
/** Recent keys' shards per shard count: partition keys repeat (hot customers, products) and MD5 is most of an append's routing cost. */
const recent = new Map<number, Map<string, number>>();
const recentLimit = 65_536;

/**
 * The shard of a partition key: MD5 of the key read as a 128-bit integer, over equal hash
 * ranges, as Kinesis splits a stream's hash key space, so one key lands in the same shard
 * number here and there.
 */
export function shardOf(partitionKey: string, shards: number): number {
  let known = recent.get(shards);
  const cached = known?.get(partitionKey);
  if (cached !== undefined) return cached;
  const shard = computeShard(partitionKey, shards);
  if (!known || known.size >= recentLimit) recent.set(shards, (known = new Map()));
  known.set(partitionKey, shard);
  return shard;
}

function computeShard(partitionKey: string, shards: number): number {
  const digest = createHash('md5').update(partitionKey, 'utf8').digest();
  // The top 32 bits decide, since the other 96 add less than shards / 2^32 to
  // digest × shards / 2^128; only a product that close below a boundary needs them all.
  const product = digest.readUInt32BE(0) * shards;
  const candidate = Math.floor(product / topSpace);
  if (shards < 2 ** 21 && product - candidate * topSpace < topSpace - shards) return candidate;
  return Number((BigInt(`0x${digest.toString('hex')}`) * BigInt(shards)) / hashSpace);
}
