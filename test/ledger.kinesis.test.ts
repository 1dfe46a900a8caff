import { KinesisClient, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '../backends/aws/clientConfig.js';
import { ledgerBackend } from '../backends/kinesis/kinesisLedgerBackend.js';
import { kinesisStreamName, lineageOf } from '../backends/kinesis/streams.js';
import { FoldlineError } from '../base/errors.js';
import { compareSeq } from '../crdt/index.js';
import type { CloudEvent } from '../ledger/types.js';
import { ledgerContract } from './contract/ledger.contract.js';
import { useKinesalite } from './support/emulators.js';

const kinesisEndpoint = useKinesalite();
let serial = 0;

const configOf = (name: string, create = true) => ({ endpoint: kinesisEndpoint(), region: 'us-east-1', name, create });

ledgerContract(
  'Kinesis (kinesalite)',
  async (streams, route) => {
    const config = configOf(`contract-${++serial}`);
    return {
      ledger: await ledgerBackend.open(config, { streams, route }),
      reopen: () => ledgerBackend.open(config, { streams, route }),
      openReader: () => ledgerBackend.openReader(config, route),
      // kinesalite keeps its streams in memory until the test ends.
      cleanup: async () => {},
    };
  },
  ledgerBackend.capabilities,
);

describe('KinesisLedger', () => {
  const streams = [{ name: 'orders', shards: 1 }];
  const route = (): string => 'orders';
  const event = (id: string): CloudEvent => ({ specversion: '1.0', id, source: 's', type: 'orders.placed', time: '2024-01-01T00:00:00.000Z', subject: 'k', data: {} });

  it('reads a shard through a split, parent before child, with the sequence numbers Kinesis gave', async () => {
    const config = configOf(`split-${++serial}`);
    const ledger = await ledgerBackend.open(config, { streams, route });
    const before = await ledger.append(Array.from({ length: 5 }, (_, i) => event(`before-${i}`)));
    const client = new KinesisClient(awsClientConfig(config));
    const streamName = kinesisStreamName(config.name, 'orders');
    const [parent] = await lineageOf(client, streamName, 0n);
    await client.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: parent!.id, NewStartingHashKey: (1n << 126n).toString() }));
    // kinesalite finishes a split in its own time: append until a child takes the records.
    let after: string[] = [];
    for (let i = 0; after.length < 5 || (await lineageOf(client, streamName, 1n << 127n)).length < 2; i++) {
      after = [...after, ...(await ledger.append([event(`after-${i}`)])).receipts.map((r) => r.seq)];
    }
    const reader = await ledgerBackend.openReader(config, route);
    const records = await reader.read('orders', 0, null, 1000);
    const seqs = records.map((r) => r.seq);
    expect(seqs).toEqual([...before.receipts.map((r) => r.seq), ...after]);
    for (let i = 1; i < seqs.length; i++) expect(compareSeq(seqs[i]!, seqs[i - 1]!)).toBe(1);
    expect((await lineageOf(client, streamName, 1n << 127n)).length).toBe(2);
    client.destroy();
    await Promise.all([ledger.close(), reader.close()]);
  });

  it('refuses an unreachable endpoint in one error naming the flag and the endpoint', async () => {
    const error = await ledgerBackend.open({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', name: 'x', create: true }, { streams, route }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FoldlineError);
    expect(error).toMatchObject({ code: 'backend_unreachable' });
    expect((error as Error).message).toContain('http://127.0.0.1:1 (--kinesis-endpoint)');
  });

  it('creates streams only when allowed, and keeps the shard count they were created with', async () => {
    expect(await ledgerBackend.open(configOf(`absent-${++serial}`, false), { streams, route }).catch((e: FoldlineError) => e.code)).toBe('no_layout');
    const config = configOf(`kept-${++serial}`);
    await (await ledgerBackend.open(config, { streams, route })).close();
    expect(await ledgerBackend.open(config, { streams: [{ name: 'orders', shards: 2 }], route }).catch((e: FoldlineError) => e.code)).toBe('layout_mismatch');
  });
});
