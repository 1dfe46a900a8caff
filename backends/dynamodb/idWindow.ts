import { BatchWriteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { decodeState, encodeState } from '../../crdt/index.js';
import { bytesOf, key, type Item } from './stateKeys.js';

/** The sort keys of a consumer's id window chunks start so (stateKeys.ts). */
export const chunkPrefix = 'i';

interface Chunk {
  sk: string;
  count: number;
}

/**
 * A consumer's window of recent event identities (Checkpoint.recentIds), stored
 * incrementally: each commit writes only the identities added since the one before, as a
 * chunk item with the window's length then, and deletes the chunks that fell out of the
 * window. A commit of a 10,000-identity window thus writes its new identities, not 10,000.
 * Chunks are ordered by time then a random part, so that several processes' chunks of one
 * consumer neither collide nor need a counter between them.
 */
export class IdWindowWriter {
  /** The chunks this writer wrote, oldest first, and the last identity written. */
  private chunks: Chunk[] = [];
  private last: string | undefined;
  /** Chunks found before this writer's first write, which that write (the whole window) replaces. */
  private inherited: string[] | undefined;
  private serial = 0;
  private readonly tag = randomBytes(4).toString('hex');

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly partition: string,
  ) {}

  /** Writes what `ids` (the whole window, oldest first) adds since the last write. */
  async write(ids: readonly string[], existing: () => Promise<string[]>): Promise<void> {
    if (this.inherited === undefined) this.inherited = await existing();
    const known = this.last === undefined ? -1 : ids.lastIndexOf(this.last);
    const added = ids.slice(known + 1);
    if (added.length === 0 && known === ids.length - 1 && this.chunks.length > 0) return;
    const sk = `${chunkPrefix}${Date.now().toString(36).padStart(10, '0')}${(this.serial++).toString(36).padStart(6, '0')}${this.tag}`;
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: { ...key(this.partition, sk), v: { B: encodeState(added) }, n: { N: String(ids.length) } } }));
    this.chunks.push({ sk, count: added.length });
    this.last = ids.at(-1);
    await this.dropOutside(known < 0 ? 0 : ids.length);
  }

  /** Deletes the chunks older than those holding the last `window` identities (all older ones when `window` is 0: a whole rewrite). */
  private async dropOutside(window: number): Promise<void> {
    let held = 0;
    let keep = this.chunks.length;
    while (keep > 0 && (held < window || keep === this.chunks.length)) held += this.chunks[--keep]!.count;
    const dropped = [...this.chunks.slice(0, keep).map((chunk) => chunk.sk), ...(window === 0 ? this.inherited! : [])];
    this.chunks = this.chunks.slice(keep);
    if (window === 0) this.inherited = [];
    for (let i = 0; i < dropped.length; i += 25) {
      const requests = dropped.slice(i, i + 25).map((sk) => ({ DeleteRequest: { Key: key(this.partition, sk) } }));
      await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }));
    }
  }
}

/** The window as its chunks hold it: their identities in order, the last `n` of the newest chunk. */
export function windowOf(chunks: readonly Item[]): string[] {
  const sorted = [...chunks].sort((a, b) => (a['sk']!.S! < b['sk']!.S! ? -1 : 1));
  const ids = sorted.flatMap((item) => decodeState<string[]>(bytesOf(item, 'v')));
  const n = Number(sorted.at(-1)?.['n']?.N ?? 0);
  return n === 0 ? [] : ids.slice(-n);
}
