import { FoldlineError } from '../base/errors.js';
import type { StreamSpec } from './types.js';

/** The layout in a stable form: sorted by stream name, shard counts checked. `where` names the ledger (a data directory, a deployment). */
export function layoutOf(streams: readonly StreamSpec[] | undefined, where: string): StreamSpec[] {
  if (streams === undefined) {
    throw new FoldlineError('no_layout', `${where} holds no ledger yet: give its streams to create one`);
  }
  for (const { name, shards } of streams) {
    if (!Number.isInteger(shards) || shards < 1) throw new FoldlineError('bad_layout', `stream ${JSON.stringify(name)} needs a positive integer shard count`);
  }
  return streams.map(({ name, shards }) => ({ name, shards })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function describeLayout(streams: readonly StreamSpec[]): string {
  return streams.map(({ name, shards }) => `${name}(${shards})`).join(', ');
}
