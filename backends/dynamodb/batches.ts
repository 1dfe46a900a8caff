import { BatchGetItemCommand, BatchWriteItemCommand, type DynamoDBClient, type KeysAndAttributes, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Item } from './stateKeys.js';

/** DynamoDB's limits per call. */
const writesPerBatch = 25;
const readsPerBatch = 100;
/** Calls in flight at once per operation. */
const parallelCalls = 16;

/** Runs `task` over `items`, at most `limit` at a time. */
export async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/**
 * Puts items unconditionally, 25 a call, calling again with what DynamoDB left unprocessed
 * (throttled). Of items with one key, the last is put (a call refuses a key twice).
 */
export async function putAll(client: DynamoDBClient, table: string, items: readonly Item[]): Promise<void> {
  const byKey = new Map(items.map((item) => [`${item['pk']!.S}\u0000${item['sk']!.S}`, item]));
  await inParallel(chunks([...byKey.values()], writesPerBatch), parallelCalls, async (chunk) => {
    let requests: WriteRequest[] = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
      const { UnprocessedItems } = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
      requests = UnprocessedItems?.[table] ?? [];
    }
  });
}

/** Gets items by key (distinct keys), 100 a call, in no particular order. */
export async function getAll(client: DynamoDBClient, table: string, keys: readonly Item[]): Promise<Item[]> {
  const found: Item[] = [];
  await inParallel(chunks(keys, readsPerBatch), parallelCalls, async (chunk) => {
    let request: KeysAndAttributes | undefined = { Keys: chunk, ConsistentRead: true };
    for (let attempt = 0; request?.Keys?.length; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
      const { Responses, UnprocessedKeys }: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, KeysAndAttributes> } = await client.send(
        new BatchGetItemCommand({ RequestItems: { [table]: request } }),
      );
      found.push(...(Responses?.[table] ?? []));
      request = UnprocessedKeys?.[table];
    }
  });
  return found;
}
