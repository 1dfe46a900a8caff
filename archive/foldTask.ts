import type { CloudEvent, StreamRouter } from '../ledger/types.js';
import type { EntityStates } from '../projections/entityStates.js';
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

export function foldTask(task: FoldTask, context: FoldTaskContext): Promise<EntityStates> {
  return task.kind === 'segments' ? foldSegments({ ...context, segments: task.segments }) : foldBareExport({ ...context, files: task.files, shards: task.shards, owned: task.owned });
}
