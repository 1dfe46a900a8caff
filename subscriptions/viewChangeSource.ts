import { FoldlineError } from '../base/errors.js';
import { frontier, mergeFrontiers, type Frontier } from '../crdt/index.js';
import type { Change, ChangeLog } from '../joiner/changeLog.js';
import { encodeToken } from '../ledger/token.js';
import { deliveryKey, type Deliverable, type DeliveryRound, type DeliverySource } from './deliverySource.js';

/** The CloudEvents type of a view change delivered by a webhook. */
export const viewChangedType = 'foldline.view.changed';

/**
 * The changes of some views, from the change stream's log, each delivered as a CloudEvent
 * (`foldline.view.changed`, subject `view/key`, data `{view, key, token, value}`). A checkpoint
 * is the frontier of the last change taken; a frontier this source handed out remembers the
 * log seq it stands for, any other (a stored checkpoint, after a restart) resumes by its token.
 * A checkpoint older than what the log keeps resumes at the oldest kept change (`onExpired`):
 * after a restart the log begins with every key's current value, so the receiver gets each
 * key's state again rather than a gap it cannot see.
 */
export class ViewChangeSource implements DeliverySource {
  private readonly seqs = new WeakMap<Frontier, number>();

  constructor(
    private readonly log: ChangeLog,
    private readonly views: ReadonlySet<string>,
    private readonly onExpired: (error: FoldlineError) => void,
  ) {}

  async start(from: 'now' | 'start'): Promise<Frontier> {
    const last = this.log.last();
    const checkpoint = from === 'now' && last ? mergeFrontiers(last.frontier) : frontier();
    this.seqs.set(checkpoint, from === 'now' ? this.log.resumeSeq(undefined) : this.log.firstSeq());
    return checkpoint;
  }

  async round(checkpoint: Frontier, limit: number): Promise<DeliveryRound | undefined> {
    const changes = this.log.since(this.resumeSeq(checkpoint)).slice(0, limit);
    const last = changes.at(-1);
    // Changes of one folded batch share a frontier object, so `next` may be the very object
    // of the checkpoint: a round is told apart from none by being there, not by its frontier.
    if (last === undefined) return undefined;
    const items = changes.filter((change) => this.views.has(change.view)).map(deliverableOf);
    const next = last.frontier;
    this.seqs.set(next, last.seq + 1);
    return { items, next };
  }

  waitForMore(checkpoint: Frontier, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        unlisten();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const unlisten = this.log.onAppend(done);
      signal.addEventListener('abort', done);
      if (signal.aborted || this.log.since(this.resumeSeq(checkpoint)).length > 0) done();
    });
  }

  lag(checkpoint: Frontier): number {
    return this.log.since(this.resumeSeq(checkpoint)).filter((change) => this.views.has(change.view)).length;
  }

  private resumeSeq(checkpoint: Frontier): number {
    const seq = this.seqs.get(checkpoint);
    if (seq !== undefined && seq >= this.log.firstSeq()) return seq;
    try {
      const resumed = this.log.resumeSeq(encodeToken(checkpoint));
      this.seqs.set(checkpoint, resumed);
      return resumed;
    } catch (error) {
      if (!(error instanceof FoldlineError) || error.code !== 'changes_expired') throw error;
      this.onExpired(error);
      const first = this.log.firstSeq();
      this.seqs.set(checkpoint, first);
      return first;
    }
  }
}

function deliverableOf(change: Change): Deliverable {
  const subject = `${change.view}/${change.key}`;
  // Named by what it is, the value of a key at a token: the same change read again has the same id.
  const id = `${subject}@${change.token}`;
  const trace = change.traceparent === undefined ? '' : `,"traceparent":"${change.traceparent}"`;
  const data = `{"view":${JSON.stringify(change.view)},"key":${JSON.stringify(change.key)},"token":${JSON.stringify(change.token)},"value":${change.json}}`;
  const body = `{"specversion":"1.0","id":${JSON.stringify(id)},"source":"urn:foldline:views","type":"${viewChangedType}","subject":${JSON.stringify(subject)},"time":"${new Date(change.at).toISOString()}","datacontenttype":"application/json"${trace},"data":${data}}`;
  return { key: deliveryKey(change.view, subject), position: change.view, seq: String(change.seq), id, traceparent: change.traceparent, body: Buffer.from(body) };
}
