import { traceOf } from '../base/traceparent.js';
import { compareSeq, parsePositionKey, type Frontier } from '../crdt/index.js';
import { encodeToken } from '../ledger/token.js';
import type { CloudEvent, Ledger } from '../ledger/types.js';
import type { ProjectionDefinition } from '../projections/types.js';
import type { EntitySource } from './types.js';
import type { ViewEngine } from './viewEngine.js';

/** An event that changed an entity, where it sits in the ledger. */
export interface ExplainedEvent {
  id: string;
  source: string;
  type: string;
  stream: string;
  shard: number;
  seq: string;
  time: string;
  traceparent?: string;
}

/** An entity a view value read: what it reflects, what the ledger holds, and the events that last changed it. */
export interface ExplainedEntity {
  /** The projection (namespace) and the entity's key. */
  entity: string;
  key: string;
  /** The ledger positions folded into this entity (per shard, the last that changed it). */
  frontier: Frontier;
  /** The ledger's durable head, and how far the fold has read, on those shards. */
  head: Frontier;
  folded: Frontier;
  /** Records on those shards appended but not folded yet: what the value may still lack. */
  lag: number;
  /** The latest events that changed it, newest first. */
  recent: ExplainedEvent[];
}

export interface Explanation {
  view: string;
  key: string;
  token: string;
  value: unknown;
  /** Everything the consumer of these projections has folded (a token). */
  checkpoint: string;
  entities: ExplainedEntity[];
}

export interface ViewExplainerOptions {
  engine: ViewEngine;
  source: EntitySource;
  ledger: Ledger;
  projections: readonly ProjectionDefinition[];
  /** Events listed per entity. */
  recent?: number;
  /** Records read back per shard at most, looking for them. */
  maxScan?: number;
}

const scanWindow = 500;

/**
 * Answers "why is this value what it is": the entities the value read, each with its
 * frontier, the ledger head and the fold's position on its shards (the lag per source), and
 * the events that last changed it. Those are found by reading the entity's shards backwards
 * from the last position folded into it, keeping the events its projection maps to it: the
 * fold records nothing more per entity, so explaining costs only when asked. An entity
 * changed rarely on a busy shard may list fewer than `recent` events (the scan is bounded);
 * the newest is always there.
 */
export class ViewExplainer {
  private readonly projections: ReadonlyMap<string, ProjectionDefinition>;

  constructor(private readonly options: ViewExplainerOptions) {
    this.projections = new Map(options.projections.map((projection) => [projection.name, projection]));
  }

  async explain(view: string, key: string, read: { after?: Frontier; waitMs?: number } = {}): Promise<Explanation> {
    const { engine, source, ledger } = this.options;
    const { value, inputs } = await engine.readWithInputs(view, key, read);
    const [head, folded] = [await ledger.head(), source.frontier()];
    const entities = await Promise.all(
      inputs.map(async ([namespace, entityKey]): Promise<ExplainedEntity> => {
        const frontier = (await source.get(namespace, entityKey))?.frontier ?? {};
        const positions = Object.keys(frontier).sort();
        let lag = 0n;
        for (const position of positions) {
          const behind = BigInt(head[position] ?? '0') - BigInt(folded[position] ?? '0');
          if (behind > 0n) lag += behind;
        }
        return {
          entity: namespace,
          key: entityKey,
          frontier: pick(frontier, positions),
          head: pick(head, positions),
          folded: pick(folded, positions),
          lag: Number(lag),
          recent: await this.recentEvents(namespace, entityKey, frontier),
        };
      }),
    );
    entities.sort((a, b) => (a.entity === b.entity ? compare(a.key, b.key) : compare(a.entity, b.entity)));
    return { view, key, token: encodeToken(value.frontier), value: value.value, checkpoint: encodeToken(folded), entities };
  }

  private async recentEvents(namespace: string, key: string, frontier: Frontier): Promise<ExplainedEvent[]> {
    const projection = this.projections.get(namespace);
    if (!projection) return [];
    const wanted = this.options.recent ?? 5;
    const maxScan = this.options.maxScan ?? 10_000;
    const found: ExplainedEvent[] = [];
    for (const [position, last] of Object.entries(frontier)) {
      const { stream, shard } = parsePositionKey(position);
      let upTo = BigInt(last);
      let scanned = 0;
      let ofShard = 0;
      while (upTo > 0n && scanned < maxScan && ofShard < wanted) {
        const from = upTo > BigInt(scanWindow) ? upTo - BigInt(scanWindow) : 0n;
        const records = await this.options.ledger.read(stream, shard, from === 0n ? null : String(from), Number(upTo - from));
        scanned += records.length;
        for (let i = records.length - 1; i >= 0 && ofShard < wanted; i--) {
          const { event, seq } = records[i]!;
          if (!changes(projection, stream, event, key)) continue;
          found.push(explained(event, stream, shard, seq));
          ofShard++;
        }
        upTo = from;
      }
    }
    return found.sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || compareSeq(b.seq, a.seq)).slice(0, wanted);
  }
}

/** Whether folding `event` by `projection` touches entity `key`. */
function changes(projection: ProjectionDefinition, stream: string, event: CloudEvent, key: string): boolean {
  if (!projection.streams.includes(stream) || (projection.types && !projection.types.includes(event.type))) return false;
  const keys = projection.keysOf(event);
  return typeof keys === 'string' ? keys === key : keys.includes(key);
}

function explained(event: CloudEvent, stream: string, shard: number, seq: string): ExplainedEvent {
  const traceparent = traceOf(event);
  return { id: event.id, source: event.source, type: event.type, stream, shard, seq, time: event.time, ...(traceparent === undefined ? {} : { traceparent }) };
}

function pick(frontier: Frontier, positions: readonly string[]): Frontier {
  return Object.fromEntries(positions.flatMap((position) => (frontier[position] === undefined ? [] : [[position, frontier[position]!]])));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
