import { createHash } from 'node:crypto';

const hashSpace = 1n << 128n;

/**
 * The shard of a partition key: MD5 of the key read as a 128-bit integer, over equal hash
 * ranges, as Kinesis splits a stream's hash key space, so one key lands in the same shard
 * number here and there.
 */
export function shardOf(partitionKey: string, shards: number): number {
  const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
  return Number((hash * BigInt(shards)) / hashSpace);
}
