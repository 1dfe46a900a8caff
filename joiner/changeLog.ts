import { FoldlineError } from '../base/errors.js';
import { frontierCovers, type Frontier } from '../crdt/index.js';
import { decodeToken, encodeToken } from '../ledger/token.js';

/** A view key's new value, as the change stream sends it. */
export interface Change {
  /** Its place in the log, counting from 1: what a consumer resumes after. */
  seq: number;
  view: string;
  key: string;
  /** The value's JSON text. */
  json: string;
  /** What the value reflects (at least). */
  frontier: Frontier;
  token: string;
  /** When it was logged (ms since the epoch). */
  at: number;
  /** The W3C trace of the (last) traced event that caused it. */
  traceparent?: string;
}

export interface ChangeLogLimits {
  /** Changes kept at most; older ones are dropped first. */
  maxChanges: number;
  /** Changes older than this are dropped, ms. */
  maxAgeMs: number;
}

/**
 * The recent changes of the streamed views, in the order they were published, so that a
 * consumer that reconnects resumes with no gap: by a change's id (`TOKEN.SEQ`, the `id:` of
 * a Server-Sent Event) or by a token (every change its frontier does not cover). A resume
 * point older than what is kept is refused (410 `changes_expired`), never a silent gap.
 * Frontiers along the log never go down (clean values carry the frontier they were
 * published at), so "after a token" is a suffix of it.
 */
export class ChangeLog {
  private changes: Change[] = [];
  /** Changes dropped so far: the seq of the first kept one is this + 1. */
  private dropped = 0;
  /** Everything before the first kept change is covered by this. */
  private floor: Frontier;
  private readonly listeners = new Set<(change: Change) => void>();

  constructor(
    start: Frontier,
    private readonly limits: ChangeLogLimits,
  ) {
    this.floor = start;
  }

  append(view: string, key: string, json: string, frontier: Frontier, now = Date.now(), traceparent?: string): void {
    const change: Change = { seq: this.dropped + this.changes.length + 1, view, key, json, frontier, token: encodeToken(frontier), at: now };
    if (traceparent !== undefined) change.traceparent = traceparent;
    this.changes.push(change);
    this.trim(now);
    for (const listener of this.listeners) listener(change);
  }

  /** The id a consumer resumes after. */
  static idOf(change: Change): string {
    return `${change.token}.${change.seq}`;
  }

  /**
   * The seq of the first change a consumer that saw everything up to `after` (a change id or
   * a token) has not seen; without `after`, the next change to come.
   */
  resumeSeq(after: string | undefined, now = Date.now()): number {
    this.trim(now);
    const next = this.dropped + this.changes.length + 1;
    if (after === undefined) return next;
    const dot = after.lastIndexOf('.');
    const seqText = after.slice(dot + 1);
    if (dot > after.indexOf('.') && /^[1-9][0-9]{0,14}$/.test(seqText)) {
      const seq = Number(seqText);
      const token = after.slice(0, dot);
      decodeToken(token);
      const kept = this.changes[seq - this.dropped - 1];
      if (seq < next && kept === undefined) throw expired('that change is no longer kept');
      if (seq >= next || kept!.token !== token) throw expired('that change was not logged by this server since it started');
      return seq + 1;
    }
    const seen = decodeToken(after);
    if (!frontierCovers(seen, this.floor)) throw expired('changes after that token are no longer kept');
    const first = this.changes.findIndex((change) => !frontierCovers(seen, change.frontier));
    return first === -1 ? next : this.dropped + first + 1;
  }

  /** The seq of the oldest change kept (or of the next one, when none is). */
  firstSeq(): number {
    return this.dropped + 1;
  }

  /** The newest change, if any is kept. */
  last(): Change | undefined {
    return this.changes[this.changes.length - 1];
  }

  /** Kept changes from `seq` on. */
  since(seq: number): Change[] {
    return this.changes.slice(Math.max(0, seq - this.dropped - 1));
  }

  onAppend(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private trim(now: number): void {
    let drop = Math.max(0, this.changes.length - this.limits.maxChanges);
    while (drop < this.changes.length && now - this.changes[drop]!.at > this.limits.maxAgeMs) drop++;
    if (drop === 0) return;
    this.floor = this.changes[drop - 1]!.frontier;
    // One shift per append once full: splice moves the array's elements in place.
    this.changes.splice(0, drop);
    this.dropped += drop;
  }
}

function expired(why: string): FoldlineError {
  return new FoldlineError('changes_expired', `${why}: read the views again, then follow the changes from the token of that read`);
}
