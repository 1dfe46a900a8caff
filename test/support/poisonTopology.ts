import type { ProjectionDefinition } from '../../projections/types.js';
import { retailRouter, retailStreamNames } from '../../retail/catalogue.js';

/*
 * A topology whose projection throws on some events, as a defective fold would: `keysOf` on
 * a subject of `poison-key`, and `fold`, after changing the state in place, on an event whose
 * data says `poison`. What the live runtime and a rebuild must both pass over, alike.
 */
interface Tally {
  events: number;
  last: string;
}

const tally: ProjectionDefinition<Tally> = {
  name: 'tally',
  streams: retailStreamNames,
  keysOf: (event) => {
    if (event.subject === 'poison-key') throw new Error('no key for a poisoned subject');
    return [event.subject];
  },
  initial: () => ({ events: 0, last: '' }),
  fold: (state, event) => {
    state.events += 1;
    state.last = event.id;
    if ((event.data as { poison?: boolean } | undefined)?.poison) throw new Error(`poisoned event ${event.id}`);
    return state;
  },
  merge: (a, b) => (a.events >= b.events ? a : b),
};

export const projections = [tally];
export const route = retailRouter;
