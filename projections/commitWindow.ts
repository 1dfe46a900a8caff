import { frontierAdvance, frontierHas, positionKey, type Frontier } from '../crdt/index.js';
import { traceOf } from '../base/traceparent.js';
import { identityOf } from '../ledger/appendPlan.js';
import type { LedgerRecord } from '../ledger/types.js';
import { keyList } from './entityKeys.js';
import type { RecentIds } from './recentIds.js';
import { rejectedRecord } from './rejectedRecord.js';
import type { DeadLetter, EntityRecord, FoldContext, ProjectionDefinition } from './types.js';

/** A consumer's progress while it folds: advanced in place, committed with its window. */
export interface Progress {
  frontier: Frontier;
  recent: RecentIds;
}

/**
 * Entity records to fold into (initial state for unknown keys). `committed`: exactly what
 * the store holds, never an object an earlier fold of this window may have changed.
 */
export type LoadEntities = (definition: ProjectionDefinition, keys: readonly string[], committed: boolean) => Promise<EntityRecord[]>;

/** The ledger record at a position and seq, read again. */
export type ReadRecord = (position: string, seq: string) => Promise<LedgerRecord>;

interface WorkingEntity {
  definition: ProjectionDefinition;
  key: string;
  record: EntityRecord;
  /**
   * Where the records folded into `record` in this window are, as position, seq pairs in
   * one flat array, to fold them again after a rejected event. Not the records: a window
   * spans many batches, and holding every event that long costs the collector dearly.
   */
  applied: string[];
  /** The last batch that changed or reloaded it (batches count from 1). */
  batch: number;
  /** The trace of the last event of that batch folded into it that came with one. */
  traceparent?: string | undefined;
}

/** An entity and its working record, as a batch hands it to listeners and a commit to the store. */
export interface WorkingChange {
  namespace: string;
  key: string;
  record: EntityRecord;
  traceparent?: string;
}

/** The working entities of one projection, by key. */
type Working = Map<string, WorkingEntity>;

type Target = { definition: ProjectionDefinition; key: string; working: Working } | { definition: ProjectionDefinition; keysError: unknown };

/** Moved along record by record: folds read the context only while they run. */
type Context = { -readonly [P in keyof FoldContext]: FoldContext[P] };

/**
 * Folds the batches of one commit window (those that share a store commit) into working
 * copies of the entities they touch. Skips records the progress frontier or the recent-id
 * window already covers and entity folds the entity's own frontier covers (a replay after
 * a partial commit). A fold that throws becomes a dead letter, and the entity is rebuilt
 * without that event from its committed state and the window's other records, since a
 * fold may have changed it before throwing.
 */
export class CommitWindow {
  /**
   * Keyed per projection, then by entity key: an event's key strings are looked up as they
   * are, where one id string per record and projection would be built and hashed anew.
   */
  private readonly entities = new Map<ProjectionDefinition, Working>();
  private readonly context: Context = { position: '', seq: '' };
  /** Batches folded so far. */
  private batches = 0;
  /** Entities changed or reloaded by the batch being folded. */
  private touched: WorkingEntity[] = [];
  readonly deadLetters: DeadLetter[] = [];
  /** Entities the window changed so far (those with applied records). */
  changed = 0;

  constructor(
    private readonly consumer: string,
    private readonly definitionsOf: (stream: string, type: string) => readonly ProjectionDefinition[],
    private readonly load: LoadEntities,
    private readonly readRecord: ReadRecord,
    private readonly now: () => Date,
  ) {}

  /** Folds one batch; returns the entities it changed or reloaded, with their working records. */
  async fold(records: readonly LedgerRecord[], progress: Progress): Promise<WorkingChange[]> {
    this.batches++;
    this.touched = [];
    const planned: Array<{ record: LedgerRecord; position: string; targets: Target[] }> = [];
    for (const record of records) {
      const position = positionKey(record.stream, record.shard);
      if (!frontierHas(progress.frontier, position, record.seq)) planned.push({ record, position, targets: this.targetsOf(record) });
    }
    await this.loadTargets(planned);
    for (const { record, position, targets } of planned) {
      frontierAdvance(progress.frontier, position, record.seq);
      if (progress.recent.enabled && !progress.recent.add(identityOf(record.event))) continue;
      for (const target of targets) {
        if ('keysError' in target) {
          this.deadLetter(target.definition, '', record, target.keysError);
          continue;
        }
        const entity = target.working.get(target.key)!;
        const error = this.foldInto(entity, record, position);
        if (error !== undefined) {
          this.deadLetter(entity.definition, entity.key, record, error);
          await this.rebuild(entity);
        }
      }
    }
    // A reloaded entity is listed even when nothing else changed it: the object loaded first
    // may hold part of the rejected fold, so whoever saw it must see the clean record.
    return this.touched.map((entity) => (entity.traceparent === undefined ? changeOf(entity) : { ...changeOf(entity), traceparent: entity.traceparent }));
  }

  /** The entities the window changed, with their records: what its commit stores. */
  changes(): WorkingChange[] {
    const changes: WorkingChange[] = [];
    for (const working of this.entities.values()) for (const entity of working.values()) if (entity.applied.length > 0) changes.push(changeOf(entity));
    return changes;
  }

  private workingOf(definition: ProjectionDefinition): Working {
    let working = this.entities.get(definition);
    if (!working) this.entities.set(definition, (working = new Map()));
    return working;
  }

  /** Each projection's distinct keys of a record, or what its `keysOf` threw. */
  private targetsOf(record: LedgerRecord): Target[] {
    const targets: Target[] = [];
    for (const definition of this.definitionsOf(record.stream, record.event.type)) {
      let keys: readonly string[];
      try {
        keys = keyList(definition.keysOf(record.event));
      } catch (keysError) {
        targets.push({ definition, keysError });
        continue;
      }
      const working = this.workingOf(definition);
      for (let i = 0; i < keys.length; i++) {
        if (i === 0 || keys.indexOf(keys[i]!) === i) targets.push({ definition, key: keys[i]!, working });
      }
    }
    return targets;
  }

  private async loadTargets(planned: ReadonlyArray<{ targets: readonly Target[] }>): Promise<void> {
    const wanted = new Map<ProjectionDefinition, Set<string>>();
    for (const { targets } of planned) {
      for (const target of targets) {
        if ('keysError' in target || target.working.has(target.key)) continue;
        const keys = wanted.get(target.definition) ?? new Set();
        wanted.set(target.definition, keys.add(target.key));
      }
    }
    for (const [definition, keySet] of wanted) {
      const keys = [...keySet];
      const records = await this.load(definition, keys, false);
      const working = this.workingOf(definition);
      keys.forEach((key, i) => working.set(key, { definition, key, record: records[i]!, applied: [], batch: 0 }));
    }
  }

  /** Folds one record into an entity unless its frontier has it; returns what a fold threw. */
  private foldInto(entity: WorkingEntity, record: LedgerRecord, position: string): unknown {
    if (frontierHas(entity.record.frontier, position, record.seq)) return undefined;
    const context = this.context;
    context.position = position;
    context.seq = record.seq;
    try {
      entity.record.state = entity.definition.fold(entity.record.state, record.event, entity.key, context);
    } catch (error) {
      return error ?? new Error('fold threw without a reason');
    }
    frontierAdvance(entity.record.frontier, position, record.seq);
    if (entity.applied.length === 0) this.changed++;
    entity.applied.push(position, record.seq);
    this.touch(entity);
    const traceparent = traceOf(record.event);
    if (traceparent !== undefined) entity.traceparent = traceparent;
    return undefined;
  }

  private touch(entity: WorkingEntity): void {
    if (entity.batch === this.batches) return;
    entity.batch = this.batches;
    entity.traceparent = undefined;
    this.touched.push(entity);
  }

  private async rebuild(entity: WorkingEntity): Promise<void> {
    let refold = entity.applied;
    for (;;) {
      entity.record = (await this.load(entity.definition, [entity.key], true))[0]!;
      if (entity.applied.length > 0) this.changed--;
      entity.applied = [];
      this.touch(entity);
      // Folds are pure, so what folded before folds again; should one not, it is rejected too.
      let failed = -1;
      for (let i = 0; i < refold.length && failed < 0; i += 2) {
        const record = await this.readRecord(refold[i]!, refold[i + 1]!);
        const error = this.foldInto(entity, record, refold[i]!);
        if (error === undefined) continue;
        this.deadLetter(entity.definition, entity.key, record, error);
        failed = i;
      }
      if (failed < 0) return;
      refold = [...entity.applied, ...refold.slice(failed + 2)];
    }
  }

  private deadLetter(definition: ProjectionDefinition, key: string, record: LedgerRecord, error: unknown): void {
    this.deadLetters.push({ consumer: this.consumer, ...rejectedRecord(definition.name, key, record, error), at: this.now().toISOString() });
  }
}

function changeOf(entity: WorkingEntity): WorkingChange {
  return { namespace: entity.definition.name, key: entity.key, record: entity.record };
}
