import pino from 'pino';
import { Registry } from 'prom-client';
import { gsetAdd, mergeGSets } from '../../crdt/index.js';
import { startGateway } from '../../gateway/server.js';
import type { Gateway, GatewayOptions } from '../../gateway/types.js';
import type { ViewDefinition } from '../../joiner/types.js';
import { ViewEngine } from '../../joiner/viewEngine.js';
import { FoldlineError } from '../../ledger/errors.js';
import { MemoryLedger } from '../../ledger/memoryLedger.js';
import type { CloudEvent } from '../../ledger/types.js';
import { MemoryStore } from '../../projections/memoryStore.js';
import { ProjectionRuntime } from '../../projections/runtime.js';
import type { ProjectionDefinition } from '../../projections/types.js';

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
      throw new FoldlineError(code, message, { status: 400, index, path });
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

const notesView: ViewDefinition<NotesValue> = {
  name: 'notes',
  compute: (key, lookup) => ({ subject: key, texts: lookup.get<string[]>(notesStream, key) ?? [] }),
};

export interface NotesServer {
  gateway: Gateway;
  ledger: MemoryLedger;
  runtime: ProjectionRuntime;
  views: ViewEngine;
  url: string;
  close(): Promise<void>;
}

export async function startNotesServer(overrides: Partial<GatewayOptions> = {}): Promise<NotesServer> {
  const ledger = new MemoryLedger({ streams: [{ name: notesStream, shards: 4 }], route: () => notesStream });
  const runtime = new ProjectionRuntime({ consumer: 'notes', ledger, store: new MemoryStore(), projections: [notesProjection] });
  const views = new ViewEngine({ source: runtime, views: [notesView] });
  runtime.start();
  const gateway = await startGateway({
    ledger,
    validate: validateNotes,
    views,
    host: '127.0.0.1',
    port: 0,
    limits: { maxBodyBytes: 256 * 1024, maxBatch: 100, maxWaitMs: 400 },
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    ...overrides,
  });
  return {
    gateway,
    ledger,
    runtime,
    views,
    url: `http://127.0.0.1:${gateway.port}`,
    async close() {
      await gateway.close();
      views.close();
      await runtime.stop();
      await ledger.close();
    },
  };
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
