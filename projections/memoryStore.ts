import { decodeState, encodeState } from '../crdt/index.js';
import { compareTuples, deadLetterTuple } from './deadLetterOrder.js';
import type { BlobStore } from './storeBackend.js';
import type { Checkpoint, DeadLetter, EntityRecord, StateCommit, StateStore } from './types.js';

/**
 * Entity state held in memory, for tests and examples. Values are kept encoded, as a
 * durable store keeps them, so callers always get their own copy and hostile keys
 * survive the same way.
 */
export class MemoryStore implements StateStore, BlobStore {
  private readonly entities = new Map<string, Map<string, Uint8Array>>();
  private readonly checkpoints = new Map<string, Uint8Array>();
  /** By the key's JSON text; copies in and out, as a durable store's reads and writes are. */
  private readonly blobMap = new Map<string, { key: string[]; value: Uint8Array }>();
  private readonly deadLetterSets = new Map<string, Map<string, { tuple: string[]; bytes: Uint8Array }>>();

  async get<S>(namespace: string, key: string): Promise<EntityRecord<S> | undefined> {
    const bytes = this.entities.get(namespace)?.get(key);
    return bytes && decodeState<EntityRecord<S>>(bytes);
  }

  async getMany<S>(namespace: string, keys: readonly string[]): Promise<Array<EntityRecord<S> | undefined>> {
    const space = this.entities.get(namespace);
    return keys.map((key) => {
      const bytes = space?.get(key);
      return bytes && decodeState<EntityRecord<S>>(bytes);
    });
  }

  async *keys(namespace: string): AsyncIterable<string> {
    const keys = [...(this.entities.get(namespace)?.keys() ?? [])].sort();
    yield* keys;
  }

  async commit(commit: StateCommit): Promise<void> {
    // Encode everything before changing anything: a value that cannot be encoded fails
    // the whole commit.
    const entities = commit.entities.map(({ namespace, key, record }) => ({ namespace, key, bytes: encodeState(record) }));
    const checkpoint = encodeState(commit.checkpoint);
    const deadLetters = commit.deadLetters.map((letter) => ({ tuple: deadLetterTuple(letter), bytes: encodeState(letter) }));

    for (const { namespace, key, bytes } of entities) {
      const space = this.entities.get(namespace) ?? new Map<string, Uint8Array>();
      this.entities.set(namespace, space);
      space.set(key, bytes);
    }
    this.checkpoints.set(commit.consumer, checkpoint);
    const letters = this.deadLetterSets.get(commit.consumer) ?? new Map();
    this.deadLetterSets.set(commit.consumer, letters);
    for (const letter of deadLetters) letters.set(JSON.stringify(letter.tuple), letter);
  }

  async checkpoint(consumer: string): Promise<Checkpoint | undefined> {
    const bytes = this.checkpoints.get(consumer);
    return bytes && decodeState<Checkpoint>(bytes);
  }

  async deadLetters(consumer: string): Promise<DeadLetter[]> {
    const letters = [...(this.deadLetterSets.get(consumer)?.values() ?? [])];
    return letters.sort((a, b) => compareTuples(a.tuple, b.tuple)).map(({ bytes }) => decodeState<DeadLetter>(bytes));
  }

  async getBlob(key: readonly string[]): Promise<Uint8Array | undefined> {
    const blob = this.blobMap.get(JSON.stringify(key));
    return blob && blob.value.slice();
  }

  async blobs(prefix: readonly string[]): Promise<Array<{ key: string[]; value: Uint8Array }>> {
    return [...this.blobMap.values()]
      .filter(({ key }) => startsWith(key, prefix))
      .sort((a, b) => compareTuples(a.key, b.key))
      .map(({ key, value }) => ({ key: [...key], value: value.slice() }));
  }

  async putBlob(key: readonly string[], value: Uint8Array): Promise<void> {
    this.blobMap.set(JSON.stringify(key), { key: [...key], value: value.slice() });
  }

  async deleteBlob(key: readonly string[]): Promise<void> {
    this.blobMap.delete(JSON.stringify(key));
  }

  async deleteBlobs(prefix: readonly string[]): Promise<void> {
    for (const [id, { key }] of this.blobMap) if (startsWith(key, prefix)) this.blobMap.delete(id);
  }

  async close(): Promise<void> {}
}

function startsWith(key: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= key.length && prefix.every((component, i) => key[i] === component);
}
