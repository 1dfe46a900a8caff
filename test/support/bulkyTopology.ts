import type { ProjectionDefinition } from '../../projections/types.js';
import { retailRouter, retailStreamNames } from '../../retail/catalogue.js';

/*
 * A fold worker topology whose states are large, so that a batch's store write takes long
 * enough for reads to race it: counts the events of each subject next to 64 KiB of padding.
 */
interface Bulky {
  events: number;
  padding: string;
}

const bulky: ProjectionDefinition<Bulky> = {
  name: 'bulky',
  streams: retailStreamNames,
  keysOf: (event) => [event.subject],
  initial: () => ({ events: 0, padding: 'x'.repeat(64 * 1024) }),
  fold: (state) => ({ ...state, events: state.events + 1 }),
  merge: (a, b) => (a.events >= b.events ? a : b),
};

export const projections = [bulky];
export const route = retailRouter;
