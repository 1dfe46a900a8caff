import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { pairKey } from '../../base/pairKey.js';
import { decodeState, encodeState, frontier, mergeFrontiers } from '../../crdt/index.js';
import { compareTuples, deadLetterTuple } from '../../projections/deadLetterOrder.js';
import type { Checkpoint, DeadLetter, EntityRecord, StateCommit, StateStore } from '../../projections/types.js';
import { awsClientConfig, type AwsEndpoint } from '../aws/clientConfig.js';
import { getAll, inParallel, putAll } from './batches.js';
import { writePosition } from './fencing.js';
import { chunkPrefix, IdWindowWriter, windowOf } from './idWindow.js';
import { bytesOf, consumerPartition, deadLetterPartition, entityPartition, key, positionSort, type Item } from './stateKeys.js';
import { ensureTable, stateTable } from './tables.js';

export interface DynamoStoreConfig extends AwsEndpoint {
  /** The deployment's name: the table is `NAME-state`. */
  name: string;
  /** Create the table when it is missing. */
  create: boolean;
  /**
   * The fencing counter of each position this store's process holds the lease of
   * (leases.ts). Given, a commit writes the checkpoint of those positions only, and is
   * refused (`fenced`) before writing anything once another process took one of them.
   */
  fences?: Record<string, number>;
}

/** How an entity written by two projectors at once is reconciled: the projection's own merge. */
export type MergeOf = (namespace: string) => ((a: unknown, b: unknown) => unknown) | undefined;

/** Conditional writes in flight at once. */
const parallelWrites = 32;
/** The sort key of a consumer's projection list: no position (`p…`), id window chunk (`i…`) or lease item has it. */
const projectionsSort = 'n';

/**
 * Entity states, checkpoints and dead letters in one DynamoDB table, with single-item writes
 * (no transactions: dynalite has none, and a window's entities outnumber a transaction's
 * 100 items). A commit writes its dead letters first, then its entities, then the id window,
 * then each position of the checkpoint: a commit cut short leaves a checkpoint no newer than
 * what it covers, and entity frontiers make folding again from it harmless.
 *
 * Entities are written unconditionally, unless `mergeOf` knows the projection: then each
 * entity carries a version, a write is conditional on the version last seen, and a write
 * that finds another's (a projector folding another shard into the same entity) merges
 * the two states and their frontiers, and tries again.
 */
export class DynamoStore implements StateStore {
  private readonly table: string;
  private readonly fences: Record<string, number> | undefined;
  /** The version of each entity as last read or written here (`pairKey`). */
  private readonly versions = new Map<string, number>();
  private readonly idWindows = new Map<string, IdWindowWriter>();
  /** Per consumer, the projection list its checkpoint item holds (JSON), as this store last wrote it. */
  private readonly projectionLists = new Map<string, string>();

  private constructor(
    private readonly client: DynamoDBClient,
    config: DynamoStoreConfig,
    private readonly mergeOf: MergeOf | undefined,
  ) {
    this.table = stateTable(config.name);
    this.fences = config.fences;
  }

  static async open(config: DynamoStoreConfig, mergeOf?: MergeOf): Promise<DynamoStore> {
    const client = new DynamoDBClient(awsClientConfig(config));
    try {
      await ensureTable(client, stateTable(config.name), config.create, config);
      return new DynamoStore(client, config, mergeOf);
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  async get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.table, Key: entityKey(namespace, key), ConsistentRead: true }));
    return item && this.entityOf<S>(namespace, key, item);
  }

  async getMany<S>(namespace: string, keys: readonly string[]): Promise<Array<EntityRecord<S> | undefined>> {
    const distinct = [...new Set(keys)];
    const items = await getAll(this.client, this.table, distinct.map((k) => entityKey(namespace, k)));
    const byKey = new Map(items.map((item) => [JSON.parse(item['sk']!.S!) as string, item]));
    return keys.map((k) => {
      const item = byKey.get(k);
      return item && this.entityOf<S>(namespace, k, item);
    });
  }

  async *keys(namespace: string): AsyncIterable<string> {
    const keys: string[] = [];
    for await (const item of this.query(entityPartition(namespace))) keys.push(JSON.parse(item['sk']!.S!) as string);
    // Plain string order (UTF-16), not DynamoDB's (UTF-8 bytes).
    yield* keys.sort();
  }

  async commit(commit: StateCommit): Promise<void> {
    // Encode everything first: a value that cannot be encoded fails the commit with nothing written.
    const entities = commit.entities.map(({ namespace, key: k, record }) => ({ namespace, key: k, record, bytes: encodeState(record) }));
    const letters = commit.deadLetters.map((letter) => ({ ...key(deadLetterPartition(commit.consumer), JSON.stringify(deadLetterTuple(letter))), v: { B: encodeState(letter) } }));
    const positions = Object.entries(commit.checkpoint.frontier).filter(([position]) => this.fences === undefined || this.fences[position] !== undefined);
    const fenceOf = (position: string): number | undefined => this.fences?.[position];
    // A process whose lease was taken stops here, before its first write.
    if (this.fences) await inParallel(Object.keys(this.fences), parallelWrites, (position) => writePosition(this.client, this.table, commit.consumer, position, fenceOf(position), undefined));
    await putAll(this.client, this.table, letters);
    if (this.mergeOf) {
      await inParallel(entities, parallelWrites, (entity) => this.writeVersioned(entity.namespace, entity.key, entity.record, entity.bytes));
    } else {
      await putAll(this.client, this.table, entities.map(({ namespace, key: k, bytes }) => ({ ...entityKey(namespace, k), v: { B: bytes } })));
    }
    await this.writeProjections(commit.consumer, commit.checkpoint.projections);
    await this.idWindow(commit.consumer).write(commit.checkpoint.recentIds, async () => (await this.consumerItems(commit.consumer)).chunks.map((item) => item['sk']!.S!));
    await inParallel(positions, parallelWrites, ([position, seq]) => writePosition(this.client, this.table, commit.consumer, position, fenceOf(position), seq));
  }

  async checkpoint(consumer: string): Promise<Checkpoint | undefined> {
    const { positions, chunks, projections } = await this.consumerItems(consumer);
    if (chunks.length === 0 && positions.length === 0) return undefined;
    const checkpointed = frontier();
    for (const item of positions) checkpointed[item['sk']!.S!.slice(positionSort('').length)] = item['seq']!.S!;
    const listed = projections?.['v']?.S;
    return { frontier: checkpointed, recentIds: windowOf(chunks), ...(listed === undefined ? {} : { projections: JSON.parse(listed) as string[] }) };
  }

  /** A consumer's checkpoint items: its positions (those with a seq), its id window chunks and its projection list. */
  private async consumerItems(consumer: string): Promise<{ positions: Item[]; chunks: Item[]; projections: Item | undefined }> {
    const positions: Item[] = [];
    const chunks: Item[] = [];
    let projections: Item | undefined;
    for await (const item of this.query(consumerPartition(consumer))) {
      const sk = item['sk']!.S!;
      if (sk === projectionsSort) projections = item;
      else if (sk.startsWith(chunkPrefix)) chunks.push(item);
      else if (item['seq']?.S !== undefined) positions.push(item);
    }
    return { positions, chunks, projections };
  }

  /** The checkpoint's projection list, written when it changed (it seldom does), before the positions. */
  private async writeProjections(consumer: string, projections: readonly string[] | undefined): Promise<void> {
    if (projections === undefined) return;
    const listed = JSON.stringify(projections);
    if (this.projectionLists.get(consumer) === listed) return;
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: { ...key(consumerPartition(consumer), projectionsSort), v: { S: listed } } }));
    this.projectionLists.set(consumer, listed);
  }

  private idWindow(consumer: string): IdWindowWriter {
    let writer = this.idWindows.get(consumer);
    if (!writer) this.idWindows.set(consumer, (writer = new IdWindowWriter(this.client, this.table, consumerPartition(consumer))));
    return writer;
  }

  async deadLetters(consumer: string): Promise<DeadLetter[]> {
    const letters: Array<{ tuple: string[]; letter: DeadLetter }> = [];
    for await (const item of this.query(deadLetterPartition(consumer))) {
      letters.push({ tuple: JSON.parse(item['sk']!.S!) as string[], letter: decodeState<DeadLetter>(bytesOf(item, 'v')) });
    }
    return letters.sort((a, b) => compareTuples(a.tuple, b.tuple)).map(({ letter }) => letter);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private entityOf<S>(namespace: string, k: string, item: Item): EntityRecord<S> {
    if (item['ver']?.N !== undefined) this.versions.set(pairKey(namespace, k), Number(item['ver'].N));
    return decodeState<EntityRecord<S>>(bytesOf(item, 'v'));
  }

  /** Writes an entity over the version last seen, merging with another writer's until one write lands. */
  private async writeVersioned(namespace: string, k: string, record: EntityRecord, bytes: Uint8Array): Promise<void> {
    const id = pairKey(namespace, k);
    const merge = this.mergeOf!(namespace);
    for (;;) {
      const seen = this.versions.get(id);
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { ...entityKey(namespace, k), v: { B: bytes }, ver: { N: String((seen ?? 0) + 1) } },
            ...(seen === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'ver = :seen', ExpressionAttributeValues: { ':seen': { N: String(seen) } } }),
          }),
        );
        this.versions.set(id, (seen ?? 0) + 1);
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      const stored = await this.get(namespace, k);
      if (stored && merge) {
        record = { state: merge(stored.state, record.state), frontier: mergeFrontiers(stored.frontier, record.frontier) };
        bytes = encodeState(record);
      }
    }
  }

  private async *query(partition: string): AsyncIterable<Item> {
    let start: Item | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: partition } },
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }
}

function entityKey(namespace: string, k: string): Item {
  return key(entityPartition(namespace), JSON.stringify(k));
}
