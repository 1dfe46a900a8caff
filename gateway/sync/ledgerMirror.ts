import * as Automerge from '@automerge/automerge';
import type { DocHandle } from '@automerge/automerge-repo';
import type { Logger } from 'pino';
import { FoldlineError } from '../../base/errors.js';
import { frontierHas, positionKey } from '../../crdt/index.js';
import type { ViewValue } from '../../joiner/types.js';
import type { Ledger, Receipt } from '../../ledger/types.js';
import type { GatewayViews, ValidateEvents } from '../types.js';
import type { DocumentMapping } from './types.js';

/** The message of the server's own changes: never turned into events (no echo). */
export const ledgerChangeMessage = 'foldline:ledger';

/** A device change turned into events, until the view reflects them. */
interface PendingChange {
  amounts: ReadonlyMap<string, number>;
  /** Set once its events are durable (a repeated one gets its first receipt). */
  receipts?: readonly Receipt[];
}

export interface LedgerMirrorDependencies {
  mapping: DocumentMapping;
  ledger: Ledger;
  validate: ValidateEvents;
  views: GatewayViews;
  logger: Logger;
  /** Before appending a change's events again after a failure. */
  retryMs: number;
}

/**
 * Keeps one loaded document and the ledger in step (docs/offline.md, "How edits become
 * events"). Every device change becomes events, once: their ids derive from the change's
 * hash, and the ledger keeps the first of a repeated (source, id), so reading a document's
 * whole history again on each load is harmless. The other way, the server's copy is set to
 * what the ledger holds (the mapped view's counters) plus the device changes the view does not
 * reflect yet, by a change of its own that is never turned into events. That also carries
 * events appended any other way (HTTP, /v1/live) into the document, and sums device counters
 * that two devices made concurrently under one name.
 */
export class LedgerMirror {
  private readonly pending = new Map<string, PendingChange>();
  /** The document's heads whose changes were read. */
  private readHeads: Automerge.Heads = [];
  private latest: ViewValue | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private readonly onChange = (): void => this.readChanges();

  constructor(
    private readonly handle: DocHandle<unknown>,
    private readonly key: string,
    private readonly deps: LedgerMirrorDependencies,
  ) {}

  /** Reads the document's history as loaded, then follows its changes and the view. */
  async start(): Promise<void> {
    this.handle.on('heads-changed', this.onChange);
    this.readChanges();
    const unsubscribe = await this.deps.views.subscribe(this.deps.mapping.view, this.key, (value) => {
      this.latest = value;
      this.reconcile();
    }, {});
    if (this.closed) unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  heads(): string[] {
    return [...Automerge.getHeads(this.handle.doc())].sort();
  }

  /** Device changes whose events are not durable yet (their appends still run once closed). */
  get unconfirmed(): number {
    let count = 0;
    for (const change of this.pending.values()) if (change.receipts === undefined) count++;
    return count;
  }

  close(): void {
    this.closed = true;
    this.handle.off('heads-changed', this.onChange);
    this.unsubscribe?.();
  }

  /** Turns the device changes the document gained since last read into events. */
  private readChanges(): void {
    const doc = this.handle.doc();
    const changes = Automerge.getChangesSince(doc, this.readHeads);
    this.readHeads = Automerge.getHeads(doc);
    for (const bytes of changes) {
      const change = Automerge.decodeChange(bytes);
      if (change.message === ledgerChangeMessage || this.pending.has(change.hash)) continue;
      const amounts = this.deps.mapping.changeAmounts(change, doc);
      if (amounts.size === 0) continue;
      const pending: PendingChange = { amounts };
      this.pending.set(change.hash, pending);
      this.append(change.hash, new Date(change.time * 1000).toISOString(), pending);
    }
  }

  private append(hash: string, time: string, change: PendingChange): void {
    const { mapping, ledger, validate, logger } = this.deps;
    let appending;
    try {
      appending = ledger.append(validate(mapping.events(this.key, { hash, time, amounts: change.amounts })));
    } catch (error) {
      appending = Promise.reject(error);
    }
    appending.then(
      ({ receipts }) => {
        change.receipts = receipts;
        this.reconcile();
      },
      (error: unknown) => {
        if (error instanceof FoldlineError && error.code !== 'internal') {
          // Refused for good (a bad value): the document drops the edit at the next reconcile.
          logger.warn({ err: error, key: this.key, change: hash }, 'a device change was refused; the document reverts it');
          this.pending.delete(hash);
          this.reconcile();
        } else if (!this.closed) {
          logger.error({ err: error, key: this.key, change: hash }, 'appending a device change failed; retrying');
          setTimeout(() => this.append(hash, time, change), this.deps.retryMs).unref();
        }
      },
    );
  }

  /**
   * Sets the server's copy to the ledger's counters plus the device changes the view does not
   * reflect yet. Waits while any change's events are not durable: until then it is not known
   * whether the view will count them.
   */
  private reconcile(): void {
    if (this.closed || this.latest === undefined) return;
    if (this.unconfirmed > 0) return;
    const { mapping } = this.deps;
    const { frontier } = this.latest;
    const target = mapping.ledgerCounters(this.latest.value);
    for (const [hash, change] of this.pending) {
      if (change.receipts!.every(({ stream, shard, seq }) => frontierHas(frontier, positionKey(stream, shard), seq))) {
        this.pending.delete(hash);
        continue;
      }
      for (const [name, amount] of change.amounts) target.set(name, (target.get(name) ?? 0) + amount);
    }
    const shown = mapping.counters(this.handle.doc());
    const deltas: Array<[string, number]> = [];
    for (const name of new Set([...target.keys(), ...shown.keys()])) {
      const delta = (target.get(name) ?? 0) - (shown.get(name) ?? 0);
      if (delta !== 0) deltas.push([name, delta]);
    }
    if (deltas.length === 0) return;
    this.handle.change(
      (doc) => {
        for (const [name, delta] of deltas) mapping.add(doc, name, delta);
      },
      { message: ledgerChangeMessage },
    );
  }
}
