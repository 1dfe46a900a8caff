import { describe, expect, it } from 'vitest';
import { storeBackend } from '../backends/dynamodb/dynamoStoreBackend.js';
import { FoldlineError } from '../base/errors.js';
import type { StateStore } from '../projections/types.js';
import { stateStoreContract } from './contract/stateStore.contract.js';
import { useDynalite } from './support/emulators.js';

const dynamoEndpoint = useDynalite();
let serial = 0;

const configOf = (name: string) => ({ endpoint: dynamoEndpoint(), region: 'us-east-1', name, create: true });

stateStoreContract(
  'DynamoDB (dynalite)',
  async () => {
    const config = configOf(`contract-${++serial}`);
    let store: StateStore = await storeBackend.open(config);
    return {
      store,
      reopen: async () => {
        await store.close();
        store = await storeBackend.open(config);
        return store;
      },
      dispose: () => store.close(),
    };
  },
  storeBackend.capabilities,
);

describe('DynamoStore', () => {
  it('refuses an unreachable endpoint in one error naming the flag and the endpoint', async () => {
    const error = await storeBackend.open({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', name: 'x', create: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FoldlineError);
    expect(error).toMatchObject({ code: 'backend_unreachable' });
    expect((error as Error).message).toContain('http://127.0.0.1:1 (--dynamodb-endpoint)');
  });

  it('refuses a missing table unless allowed to create it', async () => {
    const error = await storeBackend.open({ ...configOf('absent'), create: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'no_table' });
  });
});
