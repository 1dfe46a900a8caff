import { positionKey } from '../crdt/index.js';
import type { CloudEvent, StreamRouter } from '../ledger/types.js';
import { rejectionId, type EntityStates, type EntityStatesOptions, type FoldRejection } from '../projections/entityStates.js';
import { rejectedRecord, type RejectedRecord } from '../projections/rejectedRecord.js';
import type { ProjectionDefinition } from '../projections/types.js';
import { foldBareExport } from './bareExport.js';
import type { SegmentEntry } from './manifest.js';
import { foldSegments, type BadPart } from './segmentFold.js';
import type { ArchiveStorage } from './storage.js';

/** One worker's part of a rebuild: whole shards of an archive, or some shard numbers of a bare export. */
export type FoldTask = { kind: 'segments'; segments: SegmentEntry[] } | { kind: 'bare'; files: string[]; shards: number; owned: number[] };

export interface FoldTaskContext {
  storage: ArchiveStorage;
  projections: readonly ProjectionDefinition[];
  route: StreamRouter;
  /** The domain's check of one event: a bare export's events pass it, as appends do (an archive's passed it when appended). */
  validate?: ((value: unknown) => CloudEvent) | undefined;
  skipBad: boolean;
  /** Hold a state as its encoding once this many records were folded without it (projections/entityStates.ts). */
  encodeIdleAfter?: number;
  onFolded?: (records: number) => void;
  onBad?: (bad: BadPart) => void;
}

/**
 * Folds a part, passing over the records a projection throws on as the live runtime does
 * (returned, to become dead letters): a fold may have changed its entity's state before it
 * threw, so each such entity is folded again from the start without its rejected records,
 * until no other record is rejected, and its state replaced by that.
 */
export async function foldTask(task: FoldTask, context: FoldTaskContext): Promise<{ states: EntityStates; rejected: RejectedRecord[] }> {
  const rejected = new Map<string, FoldRejection>();
  const entities = new Map<string, Set<string>>();
  const onRejected = (rejection: FoldRejection): void => {
    const { definition, key, record } = rejection;
    const id = rejectionId(definition.name, key, positionKey(record.stream, record.shard), record.seq);
    if (rejected.has(id)) return;
    rejected.set(id, rejection);
    if (key !== '') entities.set(definition.name, (entities.get(definition.name) ?? new Set()).add(key));
  };
  const states = await foldOnce(task, context, { onRejected });
  while (entities.size > 0) {
    const known = rejected.size;
    const again = await foldOnce(task, { ...context, onFolded: undefined, onBad: undefined }, { onRejected, only: { entities, skip: new Set(rejected.keys()) } });
    if (rejected.size > known) continue;
    for (const [name, keys] of entities) for (const key of keys) states.replace(name, key, again.held(name, key));
    break;
  }
  return {
    states,
    rejected: [...rejected.values()].map(({ definition, key, record, error }) => rejectedRecord(definition.name, key, record, error)),
  };
}

function foldOnce(task: FoldTask, context: FoldTaskContext, rejections: Pick<EntityStatesOptions, 'onRejected' | 'only'>): Promise<EntityStates> {
  return task.kind === 'segments'
    ? foldSegments({ ...context, segments: task.segments, rejections })
    : foldBareExport({ ...context, files: task.files, shards: task.shards, owned: task.owned, rejections });
}
