import type { Frontier } from '../crdt/index.js';
import { deadId } from './deadOrder.js';
import type { DeadDelivery, SubscriptionSpec, SubscriptionStore } from './types.js';

/** Subscriptions in memory, for tests and services without a data directory: gone at restart. */
export class MemorySubscriptionStore implements SubscriptionStore {
  private readonly specs = new Map<string, string>();
  private readonly checkpoints = new Map<string, string>();
  private readonly dead = new Map<string, Map<string, string>>();

  async list(): Promise<SubscriptionSpec[]> {
    return [...this.specs.keys()].sort().map((name) => JSON.parse(this.specs.get(name)!) as SubscriptionSpec);
  }

  async put(spec: SubscriptionSpec, checkpoint: Frontier): Promise<void> {
    this.specs.set(spec.name, JSON.stringify(spec));
    this.checkpoints.set(spec.name, JSON.stringify(checkpoint));
  }

  async remove(name: string): Promise<void> {
    this.specs.delete(name);
    this.checkpoints.delete(name);
    this.dead.delete(name);
  }

  async checkpoint(name: string): Promise<Frontier | undefined> {
    const text = this.checkpoints.get(name);
    return text === undefined ? undefined : (JSON.parse(text) as Frontier);
  }

  async advance(name: string, checkpoint: Frontier, dead: readonly DeadDelivery[]): Promise<void> {
    if (!this.specs.has(name)) return;
    this.lettersOf(name, dead);
    this.checkpoints.set(name, JSON.stringify(checkpoint));
  }

  async deadLetters(name: string): Promise<DeadDelivery[]> {
    const letters = this.dead.get(name);
    if (!letters) return [];
    return [...letters.keys()].sort().map((id) => JSON.parse(letters.get(id)!) as DeadDelivery);
  }

  async settleDead(name: string, delivered: readonly DeadDelivery[], stillDead: readonly DeadDelivery[]): Promise<void> {
    if (!this.specs.has(name)) return;
    const letters = this.lettersOf(name, stillDead);
    for (const letter of delivered) letters.delete(deadId(letter));
  }

  async close(): Promise<void> {}

  /** The subscription's dead letters, with `added` written in. */
  private lettersOf(name: string, added: readonly DeadDelivery[]): Map<string, string> {
    const letters = this.dead.get(name) ?? new Map<string, string>();
    this.dead.set(name, letters);
    for (const letter of added) letters.set(deadId(letter), JSON.stringify(letter));
    return letters;
  }
}
