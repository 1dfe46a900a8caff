import { FoldlineError } from '../base/errors.js';
import { parsePositionKey } from '../crdt/index.js';
import type { Checkpoint, ProjectionDefinition } from '../projections/types.js';

/**
 * Refuses to fold projections the consumer's checkpoint does not list while it is already
 * past records of their streams: folded on from there, their states would miss every earlier
 * event, and the views over them would be wrong without a word. A checkpoint that lists no
 * projections (a store that does not keep them, or one written before they were kept) is
 * taken to cover them all.
 */
export function refuseNewProjections(checkpoint: Checkpoint | undefined, projections: readonly ProjectionDefinition[], consumer: string): void {
  const listed = checkpoint?.projections;
  if (!checkpoint || !listed) return;
  const folded = Object.keys(checkpoint.frontier).filter((position) => checkpoint.frontier[position] !== '0');
  const late = projections.filter((definition) => !listed.includes(definition.name) && folded.some((position) => definition.streams.includes(parsePositionKey(position).stream)));
  if (late.length === 0) return;
  const names = late.map((definition) => JSON.stringify(definition.name)).join(', ');
  const [projection, is, its] = late.length === 1 ? ['projection', 'is', 'its'] : ['projections', 'are', 'their'];
  throw new FoldlineError('new_projection', `${projection} ${names} ${is} new to consumer ${JSON.stringify(consumer)}, which has folded events of ${its} streams already: folded on from here, ${its} states would miss those`);
}
