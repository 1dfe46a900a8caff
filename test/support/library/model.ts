import { FoldlineError } from '../../../base/errors.js';
import { counterAdd, counterValue, lwwWrite, mergeCounters, mergeLww, parseTime, pnCounter, type Lww, type PnCounter } from '../../../crdt/index.js';
import type { AccessPolicy, AppendDecision, Principal } from '../../../gateway/types.js';
import type { ViewDefinition } from '../../../joiner/types.js';
import type { CloudEvent, StreamRouter, StreamSpec } from '../../../ledger/types.js';
import type { ProjectionDefinition } from '../../../projections/types.js';

/*
 * A second, small domain, to show the engine serves any: a lending library. Books are
 * added on the `book` stream (keyed by isbn); members borrow and return them on the `loan`
 * stream (keyed by member). The `shelf` view of a member joins their loans with the books'
 * titles across the two streams. Librarians do everything; members read their own shelf
 * and borrow or return only for themselves.
 */

const types = {
  'library.book.added': { stream: 'book', keyField: 'isbn', fields: ['isbn', 'title'] },
  'library.loan.borrowed': { stream: 'loan', keyField: 'memberId', fields: ['memberId', 'isbn'] },
  'library.loan.returned': { stream: 'loan', keyField: 'memberId', fields: ['memberId', 'isbn'] },
} as const;
type LibraryType = keyof typeof types;

const isLibraryType = (type: string): type is LibraryType => Object.prototype.hasOwnProperty.call(types, type);

export const libraryStreams = (shards: number): StreamSpec[] => [
  { name: 'book', shards },
  { name: 'loan', shards },
];

export const libraryRoute: StreamRouter = (event) => (isLibraryType(event.type) ? types[event.type].stream : '');

function refuse(code: string, path: string, message: string, index: number): never {
  throw new FoldlineError(code, message, { index, path });
}

/** Whole-batch validation: envelope strings, a known type, its data fields as non-empty strings, subject = key field. */
export function validateLibrary(values: unknown[]): CloudEvent[] {
  return values.map((value, index) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse('invalid_event', '', 'an event must be a JSON object', index);
    const event = value as Record<string, unknown>;
    for (const name of ['id', 'source', 'type', 'time', 'subject']) {
      if (typeof event[name] !== 'string' || event[name] === '') refuse('invalid_event', `/${name}`, `/${name} must be a non-empty string`, index);
    }
    if (event.specversion !== '1.0') refuse('invalid_event', '/specversion', '/specversion must be "1.0"', index);
    if (Number.isNaN(parseTime(event.time as string))) refuse('bad_time', '/time', '/time is not an RFC 3339 date-time', index);
    const type = event.type as string;
    if (!isLibraryType(type)) return refuse('unknown_type', '/type', `unknown event type ${JSON.stringify(type)}`, index);
    const data = event.data as Record<string, unknown> | undefined;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return refuse('invalid_event', '/data', '/data must be an object', index);
    for (const field of types[type].fields) {
      if (typeof data[field] !== 'string' || data[field] === '') refuse('invalid_event', `/data/${field}`, `/data/${field} must be a non-empty string`, index);
    }
    if (event.subject !== data[types[type].keyField]) refuse('subject_mismatch', '/subject', `/subject must equal /data/${types[type].keyField}`, index);
    return event as CloudEvent;
  });
}

const stampOf = (event: CloudEvent) => ({ t: parseTime(event.time), id: event.id, src: event.source });

export interface BookState {
  title?: Lww<string>;
}

/** Per isbn, copies borrowed (positive) and returned (negative). */
export type LoansState = Record<string, PnCounter>;

const books: ProjectionDefinition<BookState> = {
  name: 'books',
  streams: ['book'],
  keysOf: (event) => event.subject,
  initial: () => ({}),
  fold(state, event) {
    state.title = lwwWrite(state.title, String(event.data.title), stampOf(event));
    return state;
  },
  merge(a, b) {
    const title = mergeLww(a.title, b.title);
    return title ? { title } : {};
  },
};

const loans: ProjectionDefinition<LoansState> = {
  name: 'loans',
  streams: ['loan'],
  keysOf: (event) => event.subject,
  initial: () => ({}),
  fold(state, event, _key, { position }) {
    const isbn = String(event.data.isbn);
    counterAdd((state[isbn] ??= pnCounter()), position, event.type === 'library.loan.borrowed' ? 1 : -1);
    return state;
  },
  merge(a, b) {
    const merged: LoansState = { ...a };
    for (const [isbn, counter] of Object.entries(b)) merged[isbn] = mergeCounters(merged[isbn] ?? pnCounter(), counter);
    return merged;
  },
};

export const libraryProjections: readonly ProjectionDefinition[] = [books, loans] as readonly ProjectionDefinition[];

export interface Shelf {
  memberId: string;
  books: Array<{ isbn: string; title: string | null; copies: number }>;
}

/** A member's borrowed books with their titles: loans (loan stream) joined with books (book stream). */
export const shelfView: ViewDefinition<Shelf> = {
  name: 'shelf',
  checkKey(key) {
    if (key === '' || key.length > 100) throw new FoldlineError('bad_key', 'a member id is 1 to 100 characters', { path: '/key' });
  },
  compute(memberId, lookup) {
    const held = lookup.get(loans, memberId) ?? {};
    const shelf: Shelf['books'] = [];
    for (const isbn of Object.keys(held).sort()) {
      const copies = counterValue(held[isbn]!);
      if (copies > 0) shelf.push({ isbn, title: lookup.get(books, isbn)?.title?.v ?? null, copies });
    }
    return { memberId, books: shelf };
  },
};

export const libraryAccess: AccessPolicy = {
  roles: ['librarian', 'member'],
  isOperator: (principal) => principal.role === 'librarian',
  isPublicView: () => false,
  canRead: (principal: Principal, view, key) => principal.role === 'librarian' || (view === 'shelf' && key === principal.sub),
  canAppend(principal: Principal, events): AppendDecision {
    if (principal.role === 'librarian') return { allowed: true };
    for (const [index, event] of events.entries()) {
      if (libraryRoute(event) !== 'loan') return { allowed: false, index, path: '/type', message: `a member may not append ${event.type} events` };
      if (event.subject !== principal.sub) return { allowed: false, index, path: '/subject', message: 'a member borrows and returns only for themselves' };
    }
    return { allowed: true };
  },
};
