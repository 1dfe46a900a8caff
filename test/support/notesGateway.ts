import { FoldlineError } from '../../base/errors.js';
import { gsetAdd, mergeGSets } from '../../crdt/index.js';
import type { GatewayOptions } from '../../gateway/types.js';
import type { ViewDefinition } from '../../joiner/types.js';
import type { CloudEvent } from '../../ledger/types.js';
import type { ProjectionDefinition } from '../../projections/types.js';
import { startMemoryServer, type MemoryServer } from './memoryGateway.js';

/*
 * A real gateway on a free port over a generic test domain (not retail): `test.note.added`
 * events carry `{text}`; the `notes` view of a subject is its sorted texts, folded by the
 * real projection runtime into a memory store.
 */

export const notesStream = 'notes';

/** The domain's whole-batch validation, as a plug-in would give it. */
export function validateNotes(values: unknown[]): CloudEvent[] {
  return values.map((value, index) => {
    const fail = (code: string, path: string, message: string): never => {
      throw new FoldlineError(code, message, { index, path });
    };
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('invalid_event', '', 'not an object');
    const event = value as Record<string, unknown>;
    for (const name of ['specversion', 'id', 'source', 'type', 'time', 'subject']) {
      if (typeof event[name] !== 'string') fail('invalid_event', `/${name}`, `/${name} must be a string`);
    }
    if (event.type !== 'test.note.added') fail('unknown_type', '/type', 'unknown type');
    const data = event.data as Record<string, unknown> | undefined;
    if (typeof data !== 'object' || data === null || typeof data.text !== 'string') fail('invalid_event', '/data/text', '/data/text must be a string');
    return event as CloudEvent;
  });
}

/** Per subject, the sorted set of note texts. */
const notesProjection: ProjectionDefinition<string[]> = {
  name: notesStream,
  streams: [notesStream],
  keysOf: (event) => [event.subject],
  initial: () => [],
  fold(state, event) {
    gsetAdd(state, String(event.data.text));
    return state;
  },
  merge: mergeGSets,
};

export interface NotesValue {
  subject: string;
  texts: string[];
}

/** Subjects of notes are at most this long: a longer view key is refused. */
export const maxNotesKey = 64;

const notesView: ViewDefinition<NotesValue> = {
  name: 'notes',
  checkKey(key) {
    if (key.length > maxNotesKey) throw new FoldlineError('bad_key', `notes keys are at most ${maxNotesKey} characters`, { path: '/key' });
  },
  compute: (key, lookup) => ({ subject: key, texts: lookup.get(notesProjection, key) ?? [] }),
};

export type NotesServer = MemoryServer;

export function startNotesServer(overrides: Partial<GatewayOptions> = {}): Promise<NotesServer> {
  return startMemoryServer(
    { consumer: 'notes', streams: (shards) => [{ name: notesStream, shards }], route: () => notesStream, projections: [notesProjection], views: [notesView], validate: validateNotes },
    { limits: { maxBodyBytes: 256 * 1024, maxBatch: 100, maxWaitMs: 400 }, ...overrides },
  );
}

let eventCounter = 0;

/** A valid note event with a fresh id. */
export function note(subject: string, text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  eventCounter++;
  return {
    specversion: '1.0',
    id: `e-${eventCounter}`,
    source: 'test/notes',
    type: 'test.note.added',
    time: '2024-05-01T10:00:00.000Z',
    subject,
    data: { text },
    ...extra,
  };
}
