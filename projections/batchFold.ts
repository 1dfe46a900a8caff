import { frontierAdvance, frontierHas, positionKey, type Frontier } from '../crdt/index.js';
import { identityOf } from '../ledger/appendPlan.js';
import type { LedgerRecord } from '../ledger/types.js';
import type { RecentIds } from './recentIds.js';
import type { DeadLetter, EntityRecord, FoldContext, ProjectionDefinition } from './types.js';

/** A consumer's progress while it folds: advanced in place, committed with the batch. */
export interface Progress {
  frontier: Frontier;
  recent: RecentIds;
}

/**
 * Entity records to fold into (initial state for unknown keys). `committed`: exactly what
 * the store holds, never an object an earlier fold of this batch may have changed.
 */
export type LoadEntities = (definition: ProjectionDefinition, keys: readonly string[], committed: boolean) => Promise<EntityRecord[]>;

interface WorkingEntity {
  definition: ProjectionDefinition;
  key: string;
  record: EntityRecord;
  /** Records folded into `record` in this batch, to fold again after a rejected event. */
  applied: LedgerRecord[];
  /** Reloaded after a rejected fold: the object loaded first may hold part of that fold. */
  reloaded?: boolean;
}

/** The working entities of one projection, by key. */
type Working = Map<string, WorkingEntity>;

type Target = { definition: ProjectionDefinition; key: string; working: Working } | { definition: ProjectionDefinition; keysError: unknown };

/** Moved along record by record: folds read the context only while they run. */
type Context = { -readonly [P in keyof FoldContext]: FoldContext[P] };

/**
 * Folds one batch of ledger records into working copies of the entities they touch.
 * Skips records the progress frontier or the recent-id window already covers and
 * entity folds the entity's own frontier covers (a replay after a partial commit). A
 * fold that throws becomes a dead letter, and the entity is rebuilt without that event
 * from its committed state, since a fold may have changed it before throwing.
 */
export class BatchFold {
  /**
   * Keyed per projection, then by entity key: an event's key strings are looked up as they
   * are, where one id string per record and projection would be built and hashed anew.
   */
  private readonly entities = new Map<ProjectionDefinition, Working>();
  private readonly context: Context = { position: '', seq: '' };
  readonly deadLetters: DeadLetter[] = [];

  constructor(
    private readonly consumer: string,
    private readonly definitionsOf: (stream: string, type: string) => readonly ProjectionDefinition[],
    private readonly load: LoadEntities,
    private readonly now: () => Date,
  ) {}

  async fold(records: readonly LedgerRecord[], progress: Progress): Promise<void> {
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
  }

  /** The entities this batch changed, with their new records. */
  changes(): Array<{ namespace: string; key: string; record: EntityRecord }> {
    return this.working()
      .filter((entity) => entity.applied.length > 0)
      .map((entity) => ({ namespace: entity.definition.name, key: entity.key, record: entity.record }));
  }

  /**
   * Entities reloaded after a rejected fold that the batch did not otherwise change: the
   * object loaded first may hold part of the rejected fold, so whoever saw it must see
   * this record instead (it is the committed state, so there is nothing to commit).
   */
  reloadedUnchanged(): Array<{ namespace: string; key: string; record: EntityRecord }> {
    return this.working()
      .filter((entity) => entity.reloaded && entity.applied.length === 0)
      .map((entity) => ({ namespace: entity.definition.name, key: entity.key, record: entity.record }));
  }

  private working(): WorkingEntity[] {
    return [...this.entities.values()].flatMap((working) => [...working.values()]);
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
        keys = definition.keysOf(record.event);
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
      keys.forEach((key, i) => working.set(key, { definition, key, record: records[i]!, applied: [] }));
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
    entity.applied.push(record);
    return undefined;
  }

  private async rebuild(entity: WorkingEntity): Promise<void> {
    let refold = entity.applied;
    for (;;) {
      entity.record = (await this.load(entity.definition, [entity.key], true))[0]!;
      entity.applied = [];
      entity.reloaded = true;
      // Folds are pure, so what folded before folds again; should one not, it is rejected too.
      const failed = refold.findIndex((record) => {
        const error = this.foldInto(entity, record, positionKey(record.stream, record.shard));
        if (error !== undefined) this.deadLetter(entity.definition, entity.key, record, error);
        return error !== undefined;
      });
      if (failed < 0) return;
      refold = [...entity.applied, ...refold.slice(failed + 1)];
    }
  }

  private deadLetter(definition: ProjectionDefinition, key: string, record: LedgerRecord, error: unknown): void {
    this.deadLetters.push({
      consumer: this.consumer,
      projection: definition.name,
      key,
      position: positionKey(record.stream, record.shard),
      seq: record.seq,
      event: record.event,
      reason: error instanceof Error ? error.message : String(error),
      at: this.now().toISOString(),
    });
  }
}
