import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/*
 * The items of the state table, each under a partition key `pk` and a sort key `sk`.
 * Names and keys are stored as JSON text: key attributes cannot be empty, and JSON text
 * escapes lone surrogates, which UTF-8 would not carry.
 *
 * - an entity: pk `e` + namespace, sk its key; `v` its encoded record, `ver` its version;
 * - a consumer's position: pk `c` + consumer, sk `p` + position; `seq`, and `fence`, the
 *   lease fencing counter of its last writer (leases.ts);
 * - a chunk of a consumer's id window: pk `c` + consumer, sk `i` + time and a random part
 *   (idWindow.ts); `v` the identities it added, `n` the window's length then;
 * - a dead letter: pk `d` + consumer, sk its order tuple (deadLetterOrder.ts); `v` the letter.
 */
export type Item = Record<string, AttributeValue>;

export const entityPartition = (namespace: string): string => `e${JSON.stringify(namespace)}`;
export const consumerPartition = (consumer: string): string => `c${JSON.stringify(consumer)}`;
export const deadLetterPartition = (consumer: string): string => `d${JSON.stringify(consumer)}`;
export const positionSort = (position: string): string => `p${position}`;

export function key(pk: string, sk: string): Item {
  return { pk: { S: pk }, sk: { S: sk } };
}

export function bytesOf(item: Item, name: string): Uint8Array {
  const value = item[name]?.B;
  if (value === undefined) throw new TypeError(`state item ${item['pk']?.S}/${item['sk']?.S} has no ${name}`);
  return value;
}
