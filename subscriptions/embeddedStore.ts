import { open, type Database, type RootDatabase } from 'lmdb';
import { prefixRange, tupleKey } from '../base/tupleKey.js';
import type { Frontier } from '../crdt/index.js';
import { deadTuple } from './deadOrder.js';
import type { DeadDelivery, SubscriptionSpec, SubscriptionStore } from './types.js';

/**
 * Subscriptions in their own LMDB environment (`DATA/subscriptions`), apart from the fold's
 * state store: the serving thread writes here as deliveries finish, and never contends with
 * the fold worker's commits. Values are JSON (a spec, a frontier, a dead letter).
 */
export class EmbeddedSubscriptionStore implements SubscriptionStore {
  private readonly env: RootDatabase;
  private readonly specs: Database<string, Buffer>;
  private readonly checkpoints: Database<string, Buffer>;
  private readonly dead: Database<string, Buffer>;

  constructor(path: string) {
    this.env = open({ path, mapSize: 2 ** 32 });
    const options = { encoding: 'string', keyEncoding: 'binary' } as const;
    this.specs = this.env.openDB<string, Buffer>({ name: 'subscriptions', ...options });
    this.checkpoints = this.env.openDB<string, Buffer>({ name: 'checkpoints', ...options });
    this.dead = this.env.openDB<string, Buffer>({ name: 'dead-letters', ...options });
  }

  async list(): Promise<SubscriptionSpec[]> {
    return [...this.specs.getRange({})].map(({ value }) => JSON.parse(value) as SubscriptionSpec);
  }

  async put(spec: SubscriptionSpec, checkpoint: Frontier): Promise<void> {
    await this.env.transaction(() => {
      this.specs.put(tupleKey([spec.name]), JSON.stringify(spec));
      this.checkpoints.put(tupleKey([spec.name]), JSON.stringify(checkpoint));
    });
  }

  async remove(name: string): Promise<void> {
    await this.env.transaction(() => {
      this.specs.remove(tupleKey([name]));
      this.checkpoints.remove(tupleKey([name]));
      for (const key of this.dead.getKeys(prefixRange([name]))) this.dead.remove(key);
    });
  }

  async checkpoint(name: string): Promise<Frontier | undefined> {
    const text = this.checkpoints.get(tupleKey([name]));
    return text === undefined ? undefined : (JSON.parse(text) as Frontier);
  }

  async advance(name: string, checkpoint: Frontier, dead: readonly DeadDelivery[]): Promise<void> {
    await this.env.transaction(() => {
      // A subscription removed while its last deliveries ran leaves nothing behind.
      if (this.specs.get(tupleKey([name])) === undefined) return;
      for (const letter of dead) this.dead.put(tupleKey([name, ...deadTuple(letter)]), JSON.stringify(letter));
      this.checkpoints.put(tupleKey([name]), JSON.stringify(checkpoint));
    });
  }

  async deadLetters(name: string): Promise<DeadDelivery[]> {
    return [...this.dead.getRange(prefixRange([name]))].map(({ value }) => JSON.parse(value) as DeadDelivery);
  }

  async settleDead(name: string, delivered: readonly DeadDelivery[], stillDead: readonly DeadDelivery[]): Promise<void> {
    await this.env.transaction(() => {
      if (this.specs.get(tupleKey([name])) === undefined) return;
      for (const letter of delivered) this.dead.remove(tupleKey([name, ...deadTuple(letter)]));
      for (const letter of stillDead) this.dead.put(tupleKey([name, ...deadTuple(letter)]), JSON.stringify(letter));
    });
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
