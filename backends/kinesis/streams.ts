import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { setTimeout as sleep } from 'node:timers/promises';
import { FoldlineError } from '../../base/errors.js';
import { compareSeq } from '../../crdt/index.js';
import { describeLayout } from '../../ledger/layout.js';
import type { StreamSpec } from '../../ledger/types.js';
import { isUnreachable, unreachable, type AwsEndpoint } from '../aws/clientConfig.js';

/** The tag that keeps a stream's shard count as foldline laid it out: resharding changes Kinesis's count, not ours. */
const shardsTag = 'foldline-shards';
/** The tag that names the deployment a stream is of: `NAME-x-y` is stream `x-y` of `NAME`, or `y` of `NAME-x`. */
const nameTag = 'foldline-name';
const hashSpace = 1n << 128n;
/** How long a stream being created may take to become active. */
const activeWithinMs = 60_000;

export const kinesisStreamName = (name: string, stream: string): string => `${name}-${stream}`;

/**
 * The hash key all records of a foldline shard are put with: the middle of its equal part
 * of the 128-bit hash key space, which `shardOf` maps back to it. Whatever Kinesis shard
 * covers that key holds them: after a split, one child; after a merge, the merged shard.
 */
export function hashKeyOf(shard: number, shards: number): bigint {
  return ((2n * BigInt(shard) + 1n) * hashSpace) / (2n * BigInt(shards));
}

/** One Kinesis shard of a foldline shard's lineage. */
export interface LineageShard {
  id: string;
  start: string;
  /** Its last sequence number, once closed (split or merged). */
  end?: string;
}

/**
 * The Kinesis shards that held (or hold) a hash key, parent before child: the ranges that
 * contain one key form one line through splits and merges, ordered by their sequence
 * numbers (a child starts after its parents end).
 */
export async function lineageOf(client: KinesisClient, streamName: string, hashKey: bigint): Promise<LineageShard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }));
    shards.push(...(page.Shards ?? []));
    token = page.NextToken;
  } while (token);
  return shards
    .filter(({ HashKeyRange: range }) => range && BigInt(range.StartingHashKey!) <= hashKey && hashKey <= BigInt(range.EndingHashKey!))
    .map(({ ShardId, SequenceNumberRange: range }) => ({ id: ShardId!, start: range!.StartingSequenceNumber!, ...(range?.EndingSequenceNumber ? { end: range.EndingSequenceNumber } : {}) }))
    .sort((a, b) => compareSeq(a.start, b.start));
}

/**
 * Makes sure each stream of the layout has its Kinesis stream, active: created (and tagged
 * with its shard count) when `create` allows it. An existing one must have been laid out
 * with the same shard count.
 */
export async function ensureStreams(client: KinesisClient, name: string, streams: readonly StreamSpec[], create: boolean, where: AwsEndpoint): Promise<void> {
  for (const { name: stream, shards } of streams) {
    const streamName = kinesisStreamName(name, stream);
    let existing = await storedShards(client, streamName, where);
    if (existing === undefined) {
      if (!create) throw new FoldlineError('no_layout', `Kinesis has no stream ${streamName}; start once with --create, or check --name`);
      try {
        await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      await untilActive(client, streamName);
      await client.send(new AddTagsToStreamCommand({ StreamName: streamName, Tags: { [shardsTag]: String(shards), [nameTag]: name } }));
      existing = shards;
    }
    if (existing !== shards) {
      throw new FoldlineError('layout_mismatch', `Kinesis stream ${streamName} was laid out as ${describeLayout([{ name: stream, shards: existing }])}, not ${describeLayout([{ name: stream, shards }])}`);
    }
  }
}

/** The layout of a deployment's existing streams, read back from their tags. */
export async function storedLayout(client: KinesisClient, name: string, where: AwsEndpoint): Promise<StreamSpec[]> {
  const prefix = kinesisStreamName(name, '');
  const names: string[] = [];
  try {
    let more = true;
    while (more) {
      const page = await client.send(new ListStreamsCommand(names.length > 0 ? { ExclusiveStartStreamName: names[names.length - 1] } : {}));
      names.push(...(page.StreamNames ?? []));
      more = page.HasMoreStreams === true && (page.StreamNames?.length ?? 0) > 0;
    }
  } catch (error) {
    if (isUnreachable(error)) throw unreachable('Kinesis', where, '--kinesis-endpoint', error);
    throw error;
  }
  const layout: StreamSpec[] = [];
  for (const streamName of names.filter((n) => n.startsWith(prefix))) {
    const tags = await tagsOf(client, streamName);
    if (tags?.get(nameTag) === name) layout.push({ name: streamName.slice(prefix.length), shards: Number(tags.get(shardsTag)) });
  }
  return layout;
}

/** The foldline shard count a stream was created with; undefined when there is no such stream. */
async function storedShards(client: KinesisClient, streamName: string, where: AwsEndpoint): Promise<number | undefined> {
  try {
    const tags = await tagsOf(client, streamName);
    if (tags === undefined) return undefined;
    const tagged = tags.get(shardsTag);
    if (tagged === undefined) throw new FoldlineError('no_layout', `Kinesis stream ${streamName} was not created by foldline (it has no ${shardsTag} tag)`);
    return Number(tagged);
  } catch (error) {
    if (isUnreachable(error)) throw unreachable('Kinesis', where, '--kinesis-endpoint', error);
    throw error;
  }
}

/** A stream's tags, once it is active; undefined when there is no such stream. */
async function tagsOf(client: KinesisClient, streamName: string): Promise<Map<string, string> | undefined> {
  try {
    await untilActive(client, streamName);
    const { Tags } = await client.send(new ListTagsForStreamCommand({ StreamName: streamName }));
    return new Map((Tags ?? []).map((tag) => [tag.Key!, tag.Value ?? '']));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

async function untilActive(client: KinesisClient, streamName: string): Promise<void> {
  const deadline = Date.now() + activeWithinMs;
  for (;;) {
    const { StreamDescriptionSummary: summary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (summary?.StreamStatus === 'ACTIVE' || summary?.StreamStatus === 'UPDATING') return;
    if (Date.now() > deadline) throw new FoldlineError('no_layout', `Kinesis stream ${streamName} did not become active`);
    await sleep(100);
  }
}
