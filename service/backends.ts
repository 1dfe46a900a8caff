import { join } from 'node:path';
import { FoldlineError } from '../base/errors.js';
import type { LedgerBackend } from '../ledger/backend.js';
import type { BackendRef } from '../projections/backendModules.js';
import { loadLedgerBackend, loadStoreBackend } from '../projections/backendModules.js';
import type { StoreBackend } from '../projections/storeBackend.js';

/** The ledger and state store a service runs on, each named by its module and config. */
export interface Backends {
  ledger: BackendRef;
  store: BackendRef;
}

/** The backends, loaded. */
export interface LoadedBackends {
  ledger: LedgerBackend;
  store: StoreBackend;
}

/** What a process runs: everything (`all`), or one part of a scaled-out deployment. */
export const roles = ['all', 'projector', 'gateway'] as const;
export type Role = (typeof roles)[number];

export const ledgerKinds = ['embedded', 'redis', 'kinesis'] as const;
export const storeKinds = ['embedded', 'dynamodb'] as const;

/** Which backends to run on and where they are: what `foldline start`'s flags choose. */
export interface BackendChoice {
  ledger: (typeof ledgerKinds)[number];
  store: (typeof storeKinds)[number];
  /** The data directory of the embedded ones. */
  dataDir?: string;
  redisUrl: string;
  /** Kinesis's endpoint (absent: AWS's own in `region`). */
  kinesisEndpoint?: string;
  /** DynamoDB's endpoint (absent: AWS's own in `region`). */
  dynamodbEndpoint?: string;
  region: string;
  /** Prefixes every stream, table and key of the deployment. */
  name: string;
  /** Create what is missing (a ledger's layout, streams, tables). */
  create: boolean;
}

/** The default: the embedded (LMDB) ledger and store, in `ledger/` and `state/` of a data directory. */
export function embeddedBackends(dataDir: string): Backends {
  return {
    ledger: { module: new URL('../ledger/embeddedBackend.ts', import.meta.url).href, config: { path: join(dataDir, 'ledger') } },
    store: { module: new URL('../projections/embeddedStoreBackend.ts', import.meta.url).href, config: { path: join(dataDir, 'state') } },
  };
}

/** The backends a choice names; the embedded ones need its `dataDir`. */
export function chosenBackends(choice: BackendChoice): Backends {
  const embedded = choice.ledger === 'embedded' || choice.store === 'embedded' ? embeddedBackends(requiredDataDir(choice.dataDir)) : undefined;
  const aws = { region: choice.region };
  const ledger: BackendRef =
    choice.ledger === 'redis'
      ? { module: new URL('../backends/redis/redisLedgerBackend.ts', import.meta.url).href, config: { url: choice.redisUrl, name: choice.name, create: choice.create } }
      : choice.ledger === 'kinesis'
        ? {
            module: new URL('../backends/kinesis/kinesisLedgerBackend.ts', import.meta.url).href,
            config: { ...aws, ...(choice.kinesisEndpoint === undefined ? {} : { endpoint: choice.kinesisEndpoint }), name: choice.name, create: choice.create },
          }
        : embedded!.ledger;
  const store: BackendRef =
    choice.store === 'dynamodb'
      ? {
          module: new URL('../backends/dynamodb/dynamoStoreBackend.ts', import.meta.url).href,
          config: { ...aws, ...(choice.dynamodbEndpoint === undefined ? {} : { endpoint: choice.dynamodbEndpoint }), name: choice.name, create: choice.create },
        }
      : embedded!.store;
  return { ledger, store };
}

export async function loadBackends(backends: Backends): Promise<LoadedBackends> {
  const [ledger, store] = await Promise.all([loadLedgerBackend(backends.ledger), loadStoreBackend(backends.store)]);
  return { ledger, store };
}

function requiredDataDir(dataDir: string | undefined): string {
  if (dataDir === undefined) throw new FoldlineError('no_data_dir', 'the embedded ledger and store keep their files in a data directory, and none was given');
  return dataDir;
}
