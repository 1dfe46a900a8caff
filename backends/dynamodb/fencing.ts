import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FoldlineError } from '../../base/errors.js';
import { consumerPartition, key, positionSort } from './stateKeys.js';

/**
 * Writes a position of a consumer's checkpoint: its `seq`, and on a lease its fencing
 * counter. A fenced write is refused (`fenced`) once the item holds a greater counter: a
 * process that took the lease wrote there since. Without `seq` it only claims the position
 * for `fence` (a takeover), or checks that it is still this process's (before a commit).
 */
export async function writePosition(
  client: DynamoDBClient,
  table: string,
  consumer: string,
  position: string,
  fence: number | undefined,
  seq: string | undefined,
): Promise<void> {
  const sets = [...(seq === undefined ? [] : ['seq = :seq']), ...(fence === undefined ? [] : ['fence = :fence'])];
  if (sets.length === 0) return;
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key(consumerPartition(consumer), positionSort(position)),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ...(fence === undefined ? {} : { ConditionExpression: 'attribute_not_exists(fence) OR fence <= :fence' }),
        ExpressionAttributeValues: { ...(seq === undefined ? {} : { ':seq': { S: seq } }), ...(fence === undefined ? {} : { ':fence': { N: String(fence) } }) },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      throw new FoldlineError('fenced', `the lease of ${position} was taken by another process: this one may write no more of it`, { cause: error });
    }
    throw error;
  }
}
