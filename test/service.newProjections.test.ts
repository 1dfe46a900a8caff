import { describe, expect, it } from 'vitest';
import type { ProjectionDefinition } from '../projections/types.js';
import { refuseNewProjections } from '../service/newProjections.js';

const projection = (name: string, streams: string[]): ProjectionDefinition =>
  ({ name, streams, keysOf: () => [], initial: () => ({}), fold: (state: unknown) => state, merge: (a: unknown) => a }) as ProjectionDefinition;
const known = projection('orders', ['order']);
const added = projection('shipments', ['order', 'shipping']);
const elsewhere = projection('stock', ['stock']);

describe('refuseNewProjections', () => {
  it('refuses a projection the checkpoint does not list once it is past records of its streams, naming every such one', () => {
    const checkpoint = { frontier: { 'order/0': '12', 'stock/0': '0' }, recentIds: [], projections: ['orders'] };
    expect(() => refuseNewProjections(checkpoint, [known, added], 'c')).toThrow('projection "shipments" is new to consumer "c"');
    const both = projection('returns', ['order']);
    expect(() => refuseNewProjections(checkpoint, [known, added, both], 'c')).toThrow('projections "shipments", "returns" are new');
  });

  it('lets a new projection start when nothing of its streams was folded, and takes a checkpoint listing none to cover all', () => {
    expect(() => refuseNewProjections({ frontier: { 'order/0': '12', 'stock/0': '0' }, recentIds: [], projections: ['orders'] }, [known, elsewhere], 'c')).not.toThrow();
    expect(() => refuseNewProjections({ frontier: { 'order/0': '12' }, recentIds: [] }, [known, added], 'c')).not.toThrow();
    expect(() => refuseNewProjections(undefined, [known, added], 'c')).not.toThrow();
  });
});
