import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { pairKey } from '../base/pairKey.js';
import { positionKey } from '../crdt/index.js';
import type { DynamoStoreBackendConfig } from '../backends/dynamodb/dynamoStoreBackend.js';
import { ShardLeases, type HeldLeases } from '../backends/dynamodb/leases.js';
import { ChangePublisher, type StoredChange } from '../backends/redis/changeFeed.js';
import { FoldWorker } from '../projections/foldWorker.js';
import { loadBackends, type Backends } from './backends.js';
import type { Domain } from './domain.js';

export interface ProjectorOptions {
  domain: Domain;
  /** A ledger several processes share, and the DynamoDB store (`--store dynamodb`): see `sharedBackends`. */
  backends: Backends;
  shards: number;
  logger: Logger;
  /** The Redis whose pub/sub tells the gateways of each commit. */
  redisUrl: string;
  /** The deployment's name (leases, channels). */
  name: string;
  /** How long a dead projector's leases wait before another takes them over. */
  failoverMs: number;
  /** Names this process among the lease owners; default: host, pid and a random part. */
  owner?: string;
  /** The fold worker died: nothing is folded any more. */
  onFatal: (error: Error) => void;
}

export interface Projector {
  /** The positions it folds now. */
  held(): HeldLeases;
  /** Stops folding; `release` gives its leases up at once rather than letting them expire. */
  close(release?: boolean): Promise<void>;
}

/**
 * `foldline start --role projector`: folds the shards whose leases it holds into the shared
 * store, and publishes each commit's changes for the gateways. Whenever the held set
 * changes, the fold worker is started again over the new set, its store fenced with the
 * new fencing counters: a lease taken from it makes its commits of that shard refused.
 */
export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const { domain, backends, logger } = options;
  const loaded = await loadBackends(backends);
  const storeConfig = backends.store.config as DynamoStoreBackendConfig;
  const ledger = await loaded.ledger.open(backends.ledger.config, { streams: domain.streams(options.shards), route: domain.route });
  const opened: Array<{ close(): Promise<void> }> = [ledger];
  try {
    const store = await loaded.store.open(storeConfig);
    opened.unshift(store);
    const publisher = await ChangePublisher.open(options.redisUrl, options.name);
    opened.unshift(publisher);
    const positions = ledger.streams.flatMap(({ name, shards }) => Array.from({ length: shards }, (_, shard) => positionKey(name, shard)));
    const owner = options.owner ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const leases = await ShardLeases.open({ ...storeConfig, consumer: domain.consumer, owner, positions, failoverMs: options.failoverMs, logger: logger.child({ layer: 'leases' }) });
    let held: HeldLeases = new Map();
    let worker: FoldWorker | undefined;
    let closing = false;
    /** Restarts run one after another: the last held set wins. */
    let restarting: Promise<void> = Promise.resolve();

    const startWorker = (leased: HeldLeases): FoldWorker | undefined => {
      if (leased.size === 0) return undefined;
      const next = new FoldWorker({
        topology: domain.topology,
        consumer: domain.consumer,
        ledger,
        ledgerBackend: backends.ledger,
        readerFollowsWriter: false,
        store,
        storeBackend: { module: backends.store.module, config: { ...storeConfig, topology: domain.topology, fences: Object.fromEntries(leased) } },
        positions: [...leased.keys()],
        ...(loaded.ledger.capabilities.identityDedup ? { idWindow: 0 } : {}),
        logger,
        onFatal: (error) => {
          if (!closing && worker === next) options.onFatal(error);
        },
      });
      // Each commit's changes, once it landed: the entities of every batch folded before it.
      let changed = new Map<string, StoredChange['entities'][number]>();
      next.onFolded(({ entities }) => {
        for (const { namespace, key, traceparent } of entities) {
          const id = pairKey(namespace, key);
          const trace = traceparent ?? changed.get(id)?.[2];
          changed.set(id, trace === undefined ? [namespace, key] : [namespace, key, trace]);
        }
      });
      next.onStored((frontier) => {
        const entities = [...changed.values()];
        changed = new Map();
        publisher.publish({ frontier, entities }).catch((error: unknown) => logger.warn({ err: error }, 'publishing a commit failed'));
      });
      return next;
    };

    leases.start((leased) => {
      held = leased;
      restarting = restarting.then(async () => {
        if (closing) return;
        await worker?.stop();
        worker = startWorker(held);
        await worker?.ready();
        logger.info({ positions: [...held.keys()] }, 'folding the leased shards');
      }).catch((error: unknown) => options.onFatal(error as Error));
    });
    logger.info({ owner, failoverMs: options.failoverMs }, 'projector started');
    return {
      held: () => held,
      async close(release = true) {
        closing = true;
        await restarting;
        await worker?.stop();
        await leases.stop(release);
        for (const part of opened) await part.close();
      },
    };
  } catch (error) {
    for (const part of opened) await part.close();
    throw error;
  }
}
