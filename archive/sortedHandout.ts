import type { EntityStates } from '../projections/entityStates.js';
import type { ProjectionDefinition } from '../projections/types.js';

/** Entities handed out: their keys in order, and their states' encodings one after another (the i-th ends at `ends[i]`). */
export interface Handout {
  keys: string[];
  encodings: Uint8Array;
  ends: Uint32Array;
}

/**
 * One part's folded states handed out a projection at a time in key order, a chunk at a
 * time, so that the coordinator merges the parts' sorted runs as it goes (the parts'
 * states of one entity meet at once), holds a chunk per part, not all, and the store gets
 * its keys in order. States go as their encodings, which the coordinator decodes only to
 * merge. A handed-out entity is no longer held here.
 */
export class SortedHandout {
  /** Per projection: its keys in order, and how many are handed out. */
  private readonly sorted = new Map<string, { keys: string[]; at: number }>();

  constructor(
    private readonly states: EntityStates,
    private readonly projections: readonly ProjectionDefinition[],
  ) {}

  counts(): Array<[name: string, entities: number]> {
    return this.projections.map((definition) => [definition.name, this.states.count(definition)]);
  }

  /** The projection's next `entities` entities in key order (fewer at its end). */
  next(name: string, entities: number): Handout {
    const definition = this.projections.find((d) => d.name === name)!;
    let sorted = this.sorted.get(name);
    if (!sorted) this.sorted.set(name, (sorted = { keys: [...this.states.keys(definition)].sort(), at: 0 }));
    const keys = sorted.keys.slice(sorted.at, (sorted.at += entities));
    if (sorted.at >= sorted.keys.length) this.sorted.delete(name);
    const encodings = keys.map((key) => this.states.takeEncoding(definition, key));
    const ends = new Uint32Array(keys.length);
    let end = 0;
    encodings.forEach((encoding, i) => (ends[i] = end += encoding.length));
    return { keys, encodings: Buffer.concat(encodings, end), ends };
  }
}
