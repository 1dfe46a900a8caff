import type { FoldTopology } from '../../projections/foldWorkerProtocol.js';
import type { StoreBackend } from '../../projections/storeBackend.js';
import { DynamoStore, type DynamoStoreConfig, type MergeOf } from './dynamoStore.js';

export interface DynamoStoreBackendConfig extends DynamoStoreConfig {
  /**
   * The URL of the topology module whose projections fold into this store: given, entity
   * writes are versioned and merged with another projector's (several `--role projector`).
   */
  topology?: string;
}

/** The DynamoDB state store as a backend module. */
export const storeBackend: StoreBackend<DynamoStoreBackendConfig> = {
  capabilities: { durable: true, atomicCommit: false },
  open: async (config) => DynamoStore.open(config, config.topology === undefined ? undefined : await mergeOf(config.topology)),
};

async function mergeOf(topology: string): Promise<MergeOf> {
  const { projections } = (await import(topology)) as FoldTopology;
  const merges = new Map(projections.map((projection) => [projection.name, projection.merge.bind(projection) as (a: unknown, b: unknown) => unknown]));
  return (namespace) => merges.get(namespace);
}
