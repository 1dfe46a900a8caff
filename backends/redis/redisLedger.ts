import type { Redis } from 'ioredis';
import { FoldlineError } from '../../base/errors.js';
import { compareSeq, frontier, isSeq, parsePositionKey, positionKey, type Frontier } from '../../crdt/index.js';
import { digestOf, identityOf, planAppend } from '../../ledger/appendPlan.js';
import { AppendSignal } from '../../ledger/appendSignal.js';
import { describeLayout, layoutOf } from '../../ledger/layout.js';
import type { AppendResult, CloudEvent, Ledger, LedgerRecord, Receipt, StreamRouter, StreamSpec } from '../../ledger/types.js';
import { appendScript } from './appendScript.js';
import { connectRedis, keyPrefix } from './connect.js';

export interface RedisLedgerConfig {
  /** `redis://host:port/db`. */
  url: string;
  /** Prefixes every key and channel: deployments that share a Redis do not meet. */
  name: string;
  /** Create the ledger (store its layout) when there is none yet. */
  create: boolean;
}

/** Redis stream IDs are two unsigned 64-bit halves: a seq past this is past every record. */
const maxSeq = '18446744073709551615';
/** A waiter checks the head again this often, in case a change message was lost to a reconnect. */
const recheckMs = 1000;

interface AppendCommand {
  foldlineAppend(keyCount: number, ...args: Array<string | Buffer | number>): Promise<unknown>;
}

type ScriptAnswer = ['conflict', number] | ['ok', Array<[duplicate: number, position: string, seq: string]>, string[]];

/**
 * A ledger on Redis Streams: one stream key per shard, each record an entry `0-N` whose N
 * is its seq, appended by one Lua script per batch (appendScript.ts) that also keeps the
 * identity index and the head. Appends publish the positions they grew on a channel that
 * wakes the waiters of every process, reader or writer.
 */
export class RedisLedger implements Ledger {
  private readonly signal = new AppendSignal();
  private readonly shardKeys = new Map<string, string>();
  private closed = false;

  private constructor(
    private readonly redis: Redis & AppendCommand,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    readonly streams: readonly StreamSpec[],
    private readonly route: StreamRouter,
    private readonly writable: boolean,
  ) {
    for (const { name, shards } of streams) for (let shard = 0; shard < shards; shard++) this.shardKeys.set(positionKey(name, shard), `${prefix}s:${name}/${shard}`);
    subscriber.on('message', (_channel: string, position: string) => this.signal.notify(parsePositionKey(position).stream));
  }

  /** Opens the ledger to append to; `streams` is the layout a new one gets. */
  static open(config: RedisLedgerConfig, streams: readonly StreamSpec[], route: StreamRouter): Promise<RedisLedger> {
    return RedisLedger.connect(config, route, streams);
  }

  /** Opens a reader of a ledger that exists. */
  static openReader(config: Omit<RedisLedgerConfig, 'create'>, route: StreamRouter): Promise<RedisLedger> {
    return RedisLedger.connect({ ...config, create: false }, route, undefined);
  }

  private static async connect(config: RedisLedgerConfig, route: StreamRouter, streams: readonly StreamSpec[] | undefined): Promise<RedisLedger> {
    const redis = await connectRedis(config.url);
    let subscriber: Redis | undefined;
    try {
      const prefix = keyPrefix(config.name);
      const where = `Redis at ${config.url} (--name ${config.name})`;
      let stored = await redis.get(`${prefix}layout`);
      if (stored === null && streams !== undefined && config.create) {
        // Two processes creating it at once: the first layout stored wins, the other is compared with it.
        const created = JSON.stringify(layoutOf(streams, where));
        stored = (await redis.set(`${prefix}layout`, created, 'NX')) === 'OK' ? created : await redis.get(`${prefix}layout`);
      }
      const layout = layoutOf(stored === null ? undefined : (JSON.parse(stored) as StreamSpec[]), where);
      if (streams !== undefined && describeLayout(layout) !== describeLayout(layoutOf(streams, where))) {
        throw new FoldlineError('layout_mismatch', `${where} holds streams ${describeLayout(layout)}, not ${describeLayout(layoutOf(streams, where))}`);
      }
      redis.defineCommand('foldlineAppend', { lua: appendScript });
      subscriber = redis.duplicate();
      subscriber.on('error', () => {});
      await subscriber.subscribe(`${prefix}appended`);
      return new RedisLedger(redis as Redis & AppendCommand, subscriber, prefix, layout, route, streams !== undefined);
    } catch (error) {
      redis.disconnect();
      subscriber?.disconnect();
      throw error;
    }
  }

  async append(events: readonly CloudEvent[], texts?: readonly Uint8Array[]): Promise<AppendResult> {
    this.assertOpen();
    if (!this.writable) throw new FoldlineError('read_only', 'this is a reader of the ledger');
    if (texts !== undefined && texts.length !== events.length) throw new FoldlineError('invalid_texts', `${texts.length} texts were given for ${events.length} events`);
    // Routing and unknown streams only: identities are the script's to decide.
    const plan = planAppend(events, this.streams, this.route, null);
    const keyIndex = new Map<string, number>();
    const perEvent: Array<string | Buffer | number> = [];
    plan.forEach((entry, i) => {
      if (entry.kind !== 'new') throw new Error('a plan without identities has only new records');
      const position = positionKey(entry.stream, entry.shard);
      let index = keyIndex.get(position);
      if (index === undefined) keyIndex.set(position, (index = keyIndex.size + 1));
      const text = texts?.[i];
      perEvent.push(identityOf(entry.event), digestOf(entry.event), index, text === undefined ? JSON.stringify(entry.event) : Buffer.from(text));
    });
    const positions = [...keyIndex.keys()];
    const answer = (await this.redis.foldlineAppend(
      2 + positions.length,
      `${this.prefix}ids`,
      `${this.prefix}head`,
      ...positions.map((position) => this.shardKeys.get(position)!),
      `${this.prefix}appended`,
      positions.length,
      events.length,
      ...positions,
      ...perEvent,
    )) as ScriptAnswer;
    if (answer[0] === 'conflict') {
      const event = events[answer[1]]!;
      throw new FoldlineError('conflict', `event ${JSON.stringify(event.id)} from ${JSON.stringify(event.source)} was already appended with different content`, {
        index: answer[1],
        path: '/id',
      });
    }
    const receipts = answer[1].map(([duplicate, position, seq], i): Receipt => {
      const { stream, shard } = parsePositionKey(position);
      return { id: events[i]!.id, stream, shard, seq, duplicate: duplicate === 1 };
    });
    for (const position of positions) this.signal.notify(parsePositionKey(position).stream);
    return { receipts, head: frontierOf(answer[2]) };
  }

  async read(stream: string, shard: number, after: string | null, limit = 1000): Promise<LedgerRecord[]> {
    this.assertOpen();
    const key = this.shardKeys.get(positionKey(stream, shard));
    if (key === undefined) throw new FoldlineError('unknown_shard', `no shard ${shard} in stream ${JSON.stringify(stream)}`);
    if (after !== null && !isSeq(after)) throw new FoldlineError('bad_position', `position ${JSON.stringify(after)} is not a sequence number`);
    if (after !== null && compareSeq(after, maxSeq) >= 0) return [];
    const entries = await this.redis.xrange(key, after === null ? '-' : `(0-${after}`, '+', 'COUNT', limit);
    return entries.map(([id, fields]) => ({ stream, shard, seq: id.slice(2), event: JSON.parse(fields[1]!) as CloudEvent }));
  }

  async head(): Promise<Frontier> {
    this.assertOpen();
    const head = frontier();
    for (const [position, seq] of Object.entries(await this.redis.hgetall(`${this.prefix}head`))) head[position] = seq;
    return head;
  }

  async waitForAppend(streams: readonly string[], after: Frontier, signal: AbortSignal): Promise<void> {
    const positions = streams.flatMap((stream) => {
      const spec = this.streams.find((s) => s.name === stream);
      if (!spec) throw new FoldlineError('unknown_stream', `no stream ${JSON.stringify(stream)}`);
      return Array.from({ length: spec.shards }, (_, shard) => positionKey(stream, shard));
    });
    while (!this.closed && !signal.aborted) {
      // Listen before looking, so that an append between the look and the wait still wakes it.
      const waiting = new AbortController();
      const stop = (): void => waiting.abort();
      signal.addEventListener('abort', stop, { once: true });
      const timer = setTimeout(stop, recheckMs);
      try {
        const woken = this.signal.wait(streams, waiting.signal);
        const head = await this.head();
        if (positions.some((position) => head[position] !== undefined && compareSeq(head[position]!, after[position] ?? '0') > 0)) return;
        await woken;
      } finally {
        clearTimeout(timer);
        stop();
        signal.removeEventListener('abort', stop);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal.notifyAll();
    await Promise.all([this.subscriber.quit(), this.redis.quit()]).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new FoldlineError('closed', 'the ledger is closed');
  }
}

/** A frontier from a hash as HGETALL gives it in a script's answer: field, value, field, value… */
function frontierOf(flat: readonly string[]): Frontier {
  const head = frontier();
  for (let i = 0; i < flat.length; i += 2) head[flat[i]!] = flat[i + 1]!;
  return head;
}
