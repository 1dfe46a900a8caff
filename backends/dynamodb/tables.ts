import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { FoldlineError } from '../../base/errors.js';
import { isUnreachable, unreachable, type AwsEndpoint } from '../aws/clientConfig.js';

/** How long a table being created may take to become active. */
const activeWithinMs = 60_000;

/**
 * Makes sure a table of foldline's shape (string `pk`, string `sk`) is there and active:
 * created on demand when `create` allows it, a `no_table` refusal otherwise, and a
 * `backend_unreachable` one when DynamoDB does not answer.
 */
export async function ensureTable(client: DynamoDBClient, table: string, create: boolean, where: AwsEndpoint): Promise<void> {
  const deadline = Date.now() + activeWithinMs;
  for (;;) {
    let status: string | undefined;
    try {
      status = (await client.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus;
    } catch (error) {
      if (isUnreachable(error)) throw unreachable('DynamoDB', where, '--dynamodb-endpoint', error);
      if (!(error instanceof ResourceNotFoundException)) throw error;
      if (!create) throw new FoldlineError('no_table', `DynamoDB has no table ${table}; start once with --create, or check --name`);
      await createTable(client, table);
    }
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new FoldlineError('no_table', `DynamoDB table ${table} did not become active`);
    await sleep(100);
  }
}

async function createTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    // Another process created it first.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

/** The table of a deployment's entity states, checkpoints and dead letters. */
export const stateTable = (name: string): string => `${name}-state`;
/** The table of a deployment's shard leases. */
export const leaseTable = (name: string): string => `${name}-leases`;
