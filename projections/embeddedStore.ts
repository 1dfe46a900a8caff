import { open, type Database, type RootDatabase } from 'lmdb';
import { decodeTupleKey, prefixRange, tupleKey } from '../base/tupleKey.js';
import { decodeState, encodeState } from '../crdt/index.js';
import { deadLetterTuple } from './deadLetterOrder.js';
import type { BlobStore } from './storeBackend.js';
import type { Checkpoint, DeadLetter, EntityRecord, StateCommit, StateStore } from './types.js';

export interface EmbeddedStoreOptions {
  /** Directory of the LMDB environment (created if missing). */
  path: string;
  /** Largest size the environment may grow to, in bytes. */
  mapSize?: number;
}

type BinaryDb = Database<Buffer, Buffer>;

/** Keys a transaction of `adoptProjections` removes or copies at most. */
const adoptChunk = 10_000;

/** A commit as stored: each changed entity's record encoded, the checkpoint and dead letters as key and value. */
export interface EncodedCommit {
  entities: Array<{ namespace: string; key: string; record: Buffer }>;
  checkpoint: [key: Buffer, value: Buffer];
  deadLetters: Array<[key: Buffer, value: Buffer]>;
}

/**
 * Entity state in an LMDB environment: entity records, consumer checkpoints and dead letters
 * in three sub-databases (and blobs in a fourth), a commit written in one transaction and resolved once committed,
 * before its disk flush (lmdb-js's default `overlappingSync`; see `write`). Values use the
 * CRDT encoding (msgpackr alone renames `__proto__`).
 */
export class EmbeddedStore implements StateStore, BlobStore {
  private readonly env: RootDatabase;
  private readonly entities: BinaryDb;
  private readonly checkpoints: BinaryDb;
  private readonly deadLetterDb: BinaryDb;
  private readonly blobDb: BinaryDb;

  constructor(options: EmbeddedStoreOptions) {
    this.env = open({ path: options.path, mapSize: options.mapSize ?? 2 ** 34 });
    const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
    this.entities = this.env.openDB<Buffer, Buffer>({ name: 'entities', ...binary });
    this.checkpoints = this.env.openDB<Buffer, Buffer>({ name: 'checkpoints', ...binary });
    this.deadLetterDb = this.env.openDB<Buffer, Buffer>({ name: 'dead-letters', ...binary });
    this.blobDb = this.env.openDB<Buffer, Buffer>({ name: 'blobs', ...binary });
  }

  async get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    const bytes = this.entities.get(tupleKey([namespace, key]));
    return bytes && decodeState<EntityRecord<S>>(bytes);
  }

  async getMany<S>(namespace: string, keys: readonly string[]): Promise<Array<EntityRecord<S> | undefined>> {
    const values = await this.entities.getMany(keys.map((key) => tupleKey([namespace, key])));
    return values.map((bytes) => bytes && decodeState<EntityRecord<S>>(bytes));
  }

  async *keys(namespace: string): AsyncIterable<string> {
    for (const key of this.entities.getKeys(prefixRange([namespace]))) yield decodeTupleKey(key)[1]!;
  }

  async commit(commit: StateCommit): Promise<void> {
    await this.write(this.encode(commit));
  }

  /** A commit in its stored form. Encoding comes first so that a bad value fails the commit with nothing written. */
  encode(commit: StateCommit): EncodedCommit {
    return {
      entities: commit.entities.map(({ namespace, key, record }) => ({ namespace, key, record: encodeState(record) })),
      checkpoint: [tupleKey([commit.consumer]), encodeState(commit.checkpoint)],
      deadLetters: commit.deadLetters.map((letter) => [tupleKey([commit.consumer, ...deadLetterTuple(letter)]), encodeState(letter)]),
    };
  }

  /** Writes an encoded commit in one transaction. */
  async write({ entities, checkpoint, deadLetters }: EncodedCommit): Promise<void> {
    await this.env.transaction(() => {
      for (const { namespace, key, record } of entities) this.entities.put(tupleKey([namespace, key]), record);
      this.checkpoints.put(...checkpoint);
      for (const [key, value] of deadLetters) this.deadLetterDb.put(key, value);
    });
    /*
     * Resolved at commit, not at the disk flush that overlappingSync runs after it: the
     * commit already survives the process being killed, and after a power loss LMDB comes
     * back at an earlier commit with state and checkpoint together, from which the runtime
     * folds the durable ledger again. Waiting for the flush would add a disk sync to every
     * commit's latency for nothing.
     */
  }

  /**
   * Makes the next read see what another thread just committed (lmdb-js keeps a thread's
   * read snapshot until its next timer tick).
   */
  renewReads(): void {
    this.env.resetReadTxn();
  }

  async checkpoint(consumer: string): Promise<Checkpoint | undefined> {
    const bytes = this.checkpoints.get(tupleKey([consumer]));
    return bytes && decodeState<Checkpoint>(bytes);
  }

  async deadLetters(consumer: string): Promise<DeadLetter[]> {
    return [...this.deadLetterDb.getRange(prefixRange([consumer]))].map(({ value }) => decodeState<DeadLetter>(value));
  }

  /**
   * Puts `source`'s entity states of some projections, and its dead letters of them for
   * `consumer`, in place of this store's, then sets `consumer`'s checkpoint: a rebuild of
   * some projections taking over (archive/staging.ts). It runs in transactions of moderate
   * size, the checkpoint last; interrupted, it can run again from the start to the same end.
   */
  async adoptProjections(source: EmbeddedStore, consumer: string, projections: readonly string[], checkpoint: Checkpoint): Promise<void> {
    const names = new Set(projections);
    const ofProjections = (key: Uint8Array): boolean => names.has(decodeTupleKey(key)[3]!);
    for (const name of projections) {
      await this.removeRange(this.entities, prefixRange([name]), () => true);
      await this.copyRange(source.entities, this.entities, prefixRange([name]), () => true);
    }
    await this.removeRange(this.deadLetterDb, prefixRange([consumer]), ofProjections);
    await this.copyRange(source.deadLetterDb, this.deadLetterDb, prefixRange([consumer]), ofProjections);
    await this.env.transaction(() => this.checkpoints.put(tupleKey([consumer]), encodeState(checkpoint)));
  }

  /** Removes the range's chosen keys, a transaction per chunk (read inside it, so each sees what the last removed). */
  private async removeRange(db: BinaryDb, range: { start: Buffer; end: Buffer }, chosen: (key: Uint8Array) => boolean): Promise<void> {
    let removed: number;
    do {
      removed = 0;
      await this.env.transaction(() => {
        const keys: Buffer[] = [];
        for (const key of db.getKeys(range)) if (chosen(key) && keys.push(Buffer.from(key)) >= adoptChunk) break;
        for (const key of keys) db.removeSync(key);
        removed = keys.length;
      });
    } while (removed >= adoptChunk);
  }

  /** Copies the range's chosen entries of `from` into `to` as they are stored, a page and a transaction at a time. */
  private async copyRange(from: BinaryDb, to: BinaryDb, range: { start: Buffer; end: Buffer }, chosen: (key: Uint8Array) => boolean): Promise<void> {
    for (let start = range.start; ; ) {
      const page = [...from.getRange({ start, end: range.end, limit: adoptChunk })];
      const entries = page.filter(({ key }) => chosen(key)).map(({ key, value }) => [Buffer.from(key), Buffer.from(value)] as const);
      await this.env.transaction(() => {
        for (const [key, value] of entries) to.put(key, value);
      });
      if (page.length < adoptChunk) return;
      // The least key after the page's last.
      start = Buffer.concat([page.at(-1)!.key, Buffer.alloc(1)]);
    }
  }

  async getBlob(key: readonly string[]): Promise<Uint8Array | undefined> {
    return this.blobDb.get(tupleKey(key));
  }

  async blobs(prefix: readonly string[]): Promise<Array<{ key: string[]; value: Uint8Array }>> {
    return [...this.blobDb.getRange(prefixRange(prefix))].map(({ key, value }) => ({ key: decodeTupleKey(key), value }));
  }

  async putBlob(key: readonly string[], value: Uint8Array): Promise<void> {
    await this.blobDb.put(tupleKey(key), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  async deleteBlob(key: readonly string[]): Promise<void> {
    await this.blobDb.remove(tupleKey(key));
  }

  async deleteBlobs(prefix: readonly string[]): Promise<void> {
    // Read first, then removed among the other writes lmdb-js batches: a transaction callback
    // of its own per call queued every caller behind one commit each, even with nothing to remove.
    const keys = [...this.blobDb.getKeys(prefixRange(prefix))];
    await Promise.all(keys.map((key) => this.blobDb.remove(key)));
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
