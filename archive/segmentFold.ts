import { FoldlineError } from '../base/errors.js';
import { EntityStates, type EntityStatesOptions } from '../projections/entityStates.js';
import type { ProjectionDefinition } from '../projections/types.js';
import { checksum, type SegmentEntry } from './manifest.js';
import { segmentCodecs } from './segments.js';
import type { ArchiveStorage } from './storage.js';

/** A part of an archive that could not be read, and why (`--skip-bad` reports them). */
export interface BadPart {
  file: string;
  reason: string;
}

export interface SegmentFoldOptions {
  storage: ArchiveStorage;
  projections: readonly ProjectionDefinition[];
  segments: readonly SegmentEntry[];
  /** Record a bad segment and go on, rather than fail. */
  skipBad: boolean;
  /** Hold a state as its encoding once this many records were folded without it (projections/entityStates.ts). */
  encodeIdleAfter?: number;
  /** How records the projections throw on are handled (projections/entityStates.ts); default: a throw ends the fold. */
  rejections?: Pick<EntityStatesOptions, 'onRejected' | 'only'>;
  /** Told after each chunk of records folded, with how many. */
  onFolded?: (records: number) => void;
  onBad?: (bad: BadPart) => void;
}

/**
 * Folds archive segments, in the order given, into entity states with the projections' own
 * fold functions: the code the live runtime folds with. Each segment's checksum is checked
 * before any of it is folded.
 */
export async function foldSegments(options: SegmentFoldOptions): Promise<EntityStates> {
  const states = new EntityStates(options.projections, { encodeIdleAfter: options.encodeIdleAfter, ...options.rejections });
  for (const segment of options.segments) {
    const where = `${options.storage.location}/${segment.file}`;
    try {
      const bytes = await options.storage.get(segment.file);
      if (!bytes) throw new FoldlineError('bad_archive', `${where}: listed in the manifest but missing`);
      const sum = checksum(bytes);
      if (sum !== segment.sha256) throw new FoldlineError('bad_archive', `${where}: checksum ${sum} does not match the manifest's ${segment.sha256}`);
      await segmentCodecs[segment.format].decode(bytes, where, (records) => {
        for (const record of records) states.fold(record);
        options.onFolded?.(records.length);
      });
    } catch (error) {
      if (!options.skipBad || !(error instanceof FoldlineError)) throw error;
      options.onBad?.({ file: segment.file, reason: error.message });
    }
  }
  return states;
}
