import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import type { Logger } from 'pino';
import { awsClientConfig, type AwsEndpoint } from '../aws/clientConfig.js';
import { writePosition } from './fencing.js';
import { consumerPartition, key, type Item } from './stateKeys.js';
import { ensureTable, leaseTable, stateTable } from './tables.js';

export interface ShardLeasesOptions extends AwsEndpoint {
  /** The deployment's name: leases are in `NAME-leases`, checkpoints in `NAME-state`. */
  name: string;
  create: boolean;
  consumer: string;
  /** This process, as lease owners are named: unique among the processes that share the leases. */
  owner: string;
  /** Every position (`stream/shard`) to split between the processes. */
  positions: readonly string[];
  /** How long a lease may go unrenewed before another process takes it over. */
  failoverMs: number;
  logger: Logger;
}

/** The leases a process holds: each position's fencing counter. */
export type HeldLeases = ReadonlyMap<string, number>;

interface Lease {
  position: string;
  /** Empty: nobody's (never taken, or released). */
  owner: string;
  fence: number;
  renewals: number;
}

/**
 * Shard leases in a DynamoDB table, as the Kinesis Client Library keeps them: one item per
 * position with its owner, a renewal counter its owner bumps every third of the failover
 * time, and a fencing counter that every takeover bumps. Another process takes a lease
 * over once it saw the renewal counter stand still for the failover time (by its own clock:
 * no clocks are compared), or to even out the split (from a process holding more than its
 * share, what it holds beyond it). Each takeover is a conditional write on what was seen, so two
 * processes cannot both win one; the winner then claims the checkpoint position with its
 * fencing counter (fencing.ts), and the store refuses the old owner's commits from then on.
 */
export class ShardLeases {
  private readonly leaseTable: string;
  private readonly stateTable: string;
  private readonly held = new Map<string, number>();
  /** When each held lease was last renewed, by this clock. */
  private readonly renewed = new Map<string, number>();
  /** What was last seen of each lease held by another, and since when (this clock). */
  private readonly observed = new Map<string, { seen: string; since: number }>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(
    private readonly client: DynamoDBClient,
    private readonly options: ShardLeasesOptions,
  ) {
    this.leaseTable = leaseTable(options.name);
    this.stateTable = stateTable(options.name);
  }

  static async open(options: ShardLeasesOptions): Promise<ShardLeases> {
    const client = new DynamoDBClient(awsClientConfig(options));
    try {
      await ensureTable(client, leaseTable(options.name), options.create, options);
      await ensureTable(client, stateTable(options.name), options.create, options);
      return new ShardLeases(client, options);
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  /** Renews, takes and balances leases every third of the failover time; `onChange` hears of each new held set. */
  start(onChange: (held: HeldLeases) => void): void {
    const tick = (): void => {
      this.round = this.balance()
        .then((changed) => {
          if (changed && !this.stopped) onChange(new Map(this.held));
        })
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'lease round failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.failoverMs / 3);
        });
    };
    tick();
  }

  /** Stops renewing; with `release`, gives the held leases up so that others take them at once. */
  async stop(release: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    if (release) {
      for (const [position, fence] of this.held) {
        await this.update({ position, owner: this.options.owner, fence, renewals: -1 }, 'SET #owner = :nobody', { ':nobody': { S: '' } }, true).catch(() => false);
      }
    }
    this.held.clear();
    this.client.destroy();
  }

  /** One round; true when the held set changed. */
  private async balance(): Promise<boolean> {
    const { owner, positions, failoverMs } = this.options;
    let changed = false;
    const leases = await this.leases();
    const now = Date.now();
    for (const [position, fence] of this.held) {
      const kept = await this.update({ position, owner, fence, renewals: -1 }, 'SET renewals = renewals + :one', { ':one': { N: '1' } }, true).catch((error: unknown) => {
        this.options.logger.warn({ err: error, position }, 'lease renewal failed');
        // Not renewed for the failover time: another may have taken it; stop writing before it does.
        return now - (this.renewed.get(position) ?? 0) < failoverMs;
      });
      if (kept) this.renewed.set(position, now);
      else {
        this.held.delete(position);
        changed = true;
      }
    }
    const others = leases.filter((lease) => !this.held.has(lease.position));
    const expired = others.filter((lease) => {
      const seen = `${lease.owner}/${lease.fence}/${lease.renewals}`;
      const last = this.observed.get(lease.position);
      if (last?.seen !== seen) this.observed.set(lease.position, { seen, since: now });
      return lease.owner === '' || lease.owner === owner || now - (last?.seen === seen ? last.since : now) >= failoverMs;
    });
    const live = new Set([owner, ...others.filter((lease) => !expired.includes(lease)).map((lease) => lease.owner)]);
    const share = Math.ceil(positions.length / live.size);
    const candidates = [...expired];
    if (this.held.size + candidates.length < share) {
      // Even out: from each process holding more than its share, what it holds beyond it.
      const byOwner = new Map<string, Lease[]>();
      for (const lease of others) if (!expired.includes(lease)) byOwner.set(lease.owner, [...(byOwner.get(lease.owner) ?? []), lease]);
      for (const leases of byOwner.values()) candidates.push(...leases.slice(share));
    }
    for (const lease of candidates) {
      if (this.held.size >= share) break;
      if (await this.take(lease)) changed = true;
    }
    return changed;
  }

  private async take(lease: Lease): Promise<boolean> {
    const fence = lease.fence + 1;
    const taken = await this.update(lease, 'SET #owner = :me, fence = :next, renewals = :zero', { ':me': { S: this.options.owner }, ':next': { N: String(fence) }, ':zero': { N: '0' } }, false);
    if (!taken) return false;
    // From here on, the store refuses the previous owner's commits of this position.
    await writePosition(this.client, this.stateTable, this.options.consumer, lease.position, fence, undefined);
    this.held.set(lease.position, fence);
    this.renewed.set(lease.position, Date.now());
    this.options.logger.info({ position: lease.position, fence, from: lease.owner || undefined }, 'lease taken');
    return true;
  }

  /**
   * A conditional update of a lease as seen (its owner and fencing counter, and unless
   * `anyRenewals` its renewal counter); false when it changed meanwhile.
   */
  private async update(seen: Lease, expression: string, values: Item, anyRenewals: boolean): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.leaseTable,
          Key: key(consumerPartition(this.options.consumer), seen.position),
          UpdateExpression: expression,
          ConditionExpression: `#owner = :owner AND fence = :fence${anyRenewals ? '' : ' AND renewals = :renewals'}`,
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ...values,
            ':owner': { S: seen.owner },
            ':fence': { N: String(seen.fence) },
            ...(anyRenewals ? {} : { ':renewals': { N: String(seen.renewals) } }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Every lease of the consumer, created (nobody's) for positions that have none yet. */
  private async leases(): Promise<Lease[]> {
    const partition = consumerPartition(this.options.consumer);
    const found = new Map<string, Lease>();
    let start: Item | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({ TableName: this.leaseTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: partition } }, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) {
        const position = item['sk']!.S!;
        found.set(position, { position, owner: item['owner']?.S ?? '', fence: Number(item['fence']?.N ?? 0), renewals: Number(item['renewals']?.N ?? 0) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    for (const position of this.options.positions) {
      if (found.has(position)) continue;
      const lease = { position, owner: '', fence: 0, renewals: 0 };
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.leaseTable,
            Item: { ...key(partition, position), owner: { S: '' }, fence: { N: '0' }, renewals: { N: '0' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        found.set(position, lease);
      } catch (error) {
        // Another process created it: seen next round.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return [...found.values()].filter((lease) => this.options.positions.includes(lease.position));
  }
}
