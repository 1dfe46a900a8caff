import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { compareSeq, type Frontier } from '../crdt/index.js';

type Positions = () => Promise<{ head: Frontier; folded: Frontier }>;

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Per registry, the consumers whose lag its one gauge reports. */
const lagReadings = new WeakMap<Registry, Map<string, Positions>>();

/**
 * A consumer's Prometheus metrics: batches, records, dead letters, batch and commit times, and its lag
 * behind the ledger (records appended but not folded yet), read when scraped. Labelled by
 * consumer, so that one sick consumer among many shows as itself.
 */
export class RuntimeMetrics {
  private readonly batches: Counter<'consumer'>;
  private readonly records: Counter<'consumer'>;
  private readonly deadLetters: Counter<'consumer'>;
  private readonly batchSeconds: Histogram<'consumer'>;
  private readonly commits: Counter<'consumer'>;
  private readonly committedEntities: Counter<'consumer'>;
  private readonly commitSeconds: Histogram<'consumer'>;

  constructor(
    registry: Registry,
    private readonly consumer: string,
    /** The ledger head and the folded frontier, for the lag. */
    positions: Positions,
  ) {
    const registers = [registry];
    const labelNames = ['consumer'] as const;
    this.batches = metric(registry, 'foldline_projection_batches_total', () => new Counter({ name: 'foldline_projection_batches_total', help: 'Batches folded and published', labelNames, registers }));
    this.records = metric(registry, 'foldline_projection_records_total', () => new Counter({ name: 'foldline_projection_records_total', help: 'Ledger records read into batches', labelNames, registers }));
    this.deadLetters = metric(registry, 'foldline_projection_dead_letters_total', () =>
      new Counter({ name: 'foldline_projection_dead_letters_total', help: 'Events whose fold threw, kept as dead letters', labelNames, registers }),
    );
    this.batchSeconds = metric(registry, 'foldline_projection_batch_seconds', () =>
      new Histogram({ name: 'foldline_projection_batch_seconds', help: 'Time to read, fold and publish one batch (with its commit, when it closes a window)', labelNames, buckets, registers }),
    );
    this.commits = metric(registry, 'foldline_projection_commits_total', () =>
      new Counter({ name: 'foldline_projection_commits_total', help: 'Store commits, each of the batches folded since the one before', labelNames, registers }),
    );
    this.committedEntities = metric(registry, 'foldline_projection_committed_entities_total', () =>
      new Counter({ name: 'foldline_projection_committed_entities_total', help: 'Changed entities written by store commits', labelNames, registers }),
    );
    this.commitSeconds = metric(registry, 'foldline_projection_commit_seconds', () =>
      new Histogram({ name: 'foldline_projection_commit_seconds', help: 'Time to encode and write one store commit', labelNames, buckets, registers }),
    );
    let consumers = lagReadings.get(registry);
    if (!consumers) {
      const readings = new Map<string, Positions>();
      lagReadings.set(registry, (consumers = readings));
      new Gauge({
        name: 'foldline_projection_lag',
        help: 'How far each consumer is behind the ledger head, summed over shards in sequence numbers (records, where a ledger numbers them one by one)',
        labelNames,
        registers,
        async collect() {
          for (const [name, read] of readings) {
            const { head, folded } = await read();
            this.set({ consumer: name }, Number(seqDistance(folded, head)));
          }
        },
      });
    }
    consumers.set(consumer, positions);
  }

  batch(records: number, deadLetters: number, seconds: number): void {
    const labels = { consumer: this.consumer };
    this.batches.inc(labels);
    this.records.inc(labels, records);
    if (deadLetters > 0) this.deadLetters.inc(labels, deadLetters);
    this.batchSeconds.observe(labels, seconds);
  }

  commit(entities: number, seconds: number): void {
    const labels = { consumer: this.consumer };
    this.commits.inc(labels);
    this.committedEntities.inc(labels, entities);
    this.commitSeconds.observe(labels, seconds);
  }
}

/** The metric of that name already in the registry (another consumer's), or a new one. */
function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** How many sequence numbers `to` is ahead of `from`, over every position. */
function seqDistance(from: Frontier, to: Frontier): bigint {
  let total = 0n;
  for (const position of Object.keys(to)) {
    const done = from[position] ?? '0';
    if (compareSeq(to[position]!, done) > 0) total += BigInt(to[position]!) - BigInt(done);
  }
  return total;
}
