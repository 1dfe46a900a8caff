import { FoldlineError } from '../base/errors.js';
import { positionKey } from '../crdt/index.js';
import { shardOf } from '../ledger/shards.js';
import type { CloudEvent, StreamRouter } from '../ledger/types.js';
import { EntityStates, type EntityStatesOptions } from '../projections/entityStates.js';
import type { ProjectionDefinition } from '../projections/types.js';
import { dataOf, parquetRows } from './parquetSegment.js';
import type { BadPart } from './segmentFold.js';
import type { ArchiveStorage } from './storage.js';
import { parseArchiveJson } from './archiveJson.js';
import { SeenEvents } from './seenEvents.js';
import { forEachLine } from './textLines.js';

/*
 * A bare export: NDJSON files (gzip'd or not) or Parquet files of plain CloudEvents, as a warehouse or
 * Firehose writes them, with no manifest, maybe with duplicates. Its events get the
 * ledger's layout: the stream the domain routes them to, the shard by the same key hashing
 * (`shardOf` of the subject), and seqs in the order of file name, then line.
 */

const bareExtensions = ['.ndjson', '.jsonl', '.ndjson.gz', '.jsonl.gz', '.json.gz', '.parquet'];
const eventColumns = ['id', 'source', 'type', 'time', 'subject', 'data'];

/** The export's files, in the order their events count. */
export async function bareExportFiles(storage: ArchiveStorage): Promise<string[]> {
  return (await storage.list('')).filter((name) => bareExtensions.some((extension) => name.endsWith(extension)));
}

export interface BareFoldOptions {
  storage: ArchiveStorage;
  files: readonly string[];
  projections: readonly ProjectionDefinition[];
  route: StreamRouter;
  /** The domain's check of one event (as an append makes it): a bad event is a bad line. */
  validate?: ((value: unknown) => CloudEvent) | undefined;
  /** Shards per stream of the layout (the same for every stream). */
  shards: number;
  /** The shard numbers this fold owns: events of the others are left to other workers. */
  owned: readonly number[];
  skipBad: boolean;
  /** Hold a state as its encoding once this many records were folded without it (projections/entityStates.ts). */
  encodeIdleAfter?: number;
  /** How records the projections throw on are handled (projections/entityStates.ts); default: a throw ends the fold. */
  rejections?: Pick<EntityStatesOptions, 'onRejected' | 'only'>;
  onFolded?: (records: number) => void;
  onBad?: (bad: BadPart) => void;
}

const subjectField = '"subject":"';
const chunk = 4096;

/**
 * Folds the events of the owned shards, each (source, id) once. Every worker reads every
 * file, but parses only the lines of its own shards: a line's subject is found in its text,
 * and only a line where it cannot be (an escape in it, another spacing) is parsed to learn it.
 */
export async function foldBareExport(options: BareFoldOptions): Promise<EntityStates> {
  const states = new EntityStates(options.projections, { encodeIdleAfter: options.encodeIdleAfter, ...options.rejections });
  const owned = new Set(options.owned);
  const seen = new SeenEvents();
  const seqs = new Map<string, number>();
  let folded = 0;
  const fold = (read: CloudEvent, where: string): void => {
    const shard = shardOf(read.subject, options.shards);
    if (!owned.has(shard)) return;
    const event = options.validate ? validated(options.validate, read, where) : read;
    if (!seen.add(event.source, event.id)) return;
    const stream = options.route(event);
    const position = positionKey(stream, shard);
    const seq = (seqs.get(position) ?? 0) + 1;
    seqs.set(position, seq);
    states.fold({ stream, shard, seq: String(seq), event });
    if (++folded % chunk === 0) options.onFolded?.(chunk);
  };
  /** With skip-bad, a bad part is reported and passed over; else it fails the fold. */
  const skip = (file: string, error: unknown): void => {
    if (!options.skipBad || !(error instanceof FoldlineError)) throw error;
    options.onBad?.({ file, reason: error.message });
  };
  const orSkip = async (file: string, step: () => unknown): Promise<void> => {
    try {
      await step();
    } catch (error) {
      skip(file, error);
    }
  };
  for (const file of options.files) {
    const where = `${options.storage.location}/${file}`;
    let bytes: Uint8Array | undefined;
    await orSkip(file, async () => {
      bytes = await options.storage.get(file);
      if (!bytes) throw new FoldlineError('bad_archive', `${where}: listed, then gone`);
    });
    if (!bytes) continue;
    if (file.endsWith('.parquet')) {
      const content = bytes;
      await orSkip(file, async () => {
        const rows = await parquetRows(content, where, eventColumns);
        rows.forEach((row, i) => {
          try {
            const at = `${where}: row ${i + 1}`;
            fold(eventOfRow(row, at), at);
          } catch (error) {
            skip(file, error);
          }
        });
      });
      continue;
    }
    await orSkip(file, () =>
      forEachLine(bytes!, file.endsWith('.gz'), where, (text, start, stop, line) => {
        const subject = subjectOf(text, start, stop);
        if (subject !== undefined && !owned.has(shardOf(subject, options.shards))) return;
        try {
          const at = `${where}: line ${line}`;
          fold(parseEvent(text.slice(start, stop), at), at);
        } catch (error) {
          skip(file, error);
        }
      }),
    );
  }
  options.onFolded?.(folded % chunk);
  return states;
}

/**
 * The subject of the event on a line, when its text shows it plainly: the first
 * `"subject":"` of the line, before any nested object opens (so it is the event's own; the
 * pattern cannot occur inside a JSON string, whose quotes are escaped).
 */
function subjectOf(text: string, start: number, stop: number): string | undefined {
  const field = text.indexOf(subjectField, start);
  if (field < 0 || field >= stop) return undefined;
  const nested = text.indexOf('{', start + 1);
  if (nested >= 0 && nested < field) return undefined;
  const from = field + subjectField.length;
  const to = text.indexOf('"', from);
  if (to < 0 || to >= stop) return undefined;
  const subject = text.slice(from, to);
  return subject.includes('\\') ? undefined : subject;
}

/** The event as the domain admits it, or a bad part naming where it is and its bad field. */
function validated(validate: (value: unknown) => CloudEvent, event: CloudEvent, where: string): CloudEvent {
  try {
    return validate(event);
  } catch (error) {
    if (!(error instanceof FoldlineError)) throw error;
    const { path } = error;
    throw new FoldlineError('bad_archive', `${where}: the domain refuses the event: ${error.message}${path && !error.message.includes(path) ? ` (at ${path})` : ''}`);
  }
}

function parseEvent(text: string, where: string): CloudEvent {
  return checkedEvent(parseArchiveJson(text, where) as Partial<CloudEvent>, where);
}

/** A Parquet row as the event it holds: its columns are the attributes, `data` JSON text or a struct. */
function eventOfRow(row: Record<string, unknown>, where: string): CloudEvent {
  const event: Record<string, unknown> = { specversion: '1.0' };
  for (const [name, value] of Object.entries(row)) if (value !== null && value !== undefined) event[name] = name === 'data' ? dataOf(value, where) : value instanceof Date ? value.toISOString() : value;
  return checkedEvent(event as Partial<CloudEvent>, where);
}

function checkedEvent(value: Partial<CloudEvent>, where: string): CloudEvent {
  if (typeof value !== 'object' || value === null || typeof value.id !== 'string' || typeof value.source !== 'string' || typeof value.type !== 'string' || typeof value.subject !== 'string') {
    throw new FoldlineError('bad_archive', `${where}: not a CloudEvent with id, source, type and subject`);
  }
  return value as CloudEvent;
}
