import { FoldlineError } from '../../base/errors.js';
import type { ChangeFeed } from '../../joiner/changeFeed.js';
import { ChangeLog, type Change } from '../../joiner/changeLog.js';
import { bearerToken, type AccessGuard } from '../auth/guard.js';
import type { StreamSink } from './answer.js';
import type { HttpRoute } from './routes.js';

/** A streamed answer is written to at least this often, so that no idle timeout ends it. */
const keepAliveMs = 5_000;

interface ChangeFormat {
  contentType: string;
  /** The first chunk. */
  opening: string;
  change(change: Change): string;
  keepAlive: string;
  expired(message: string): string;
}

const sse: ChangeFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  opening: 'retry: 1000\n\n',
  change: (change) => `id: ${ChangeLog.idOf(change)}\nevent: change\ndata: ${changeJson(change)}\n\n`,
  keepAlive: ': keep-alive\n\n',
  expired: (message) => `event: error\ndata: ${JSON.stringify({ error: { code: 'changes_expired', message } })}\n\n`,
};

const ndjson: ChangeFormat = {
  contentType: 'application/x-ndjson',
  opening: '',
  change: (change) => `{"id":${JSON.stringify(ChangeLog.idOf(change))},${changeJson(change).slice(1)}\n`,
  keepAlive: '\n',
  expired: (message) => `${JSON.stringify({ error: { code: 'changes_expired', message } })}\n`,
};

function changeJson(change: Change): string {
  const trace = change.traceparent === undefined ? '' : `,"traceparent":"${change.traceparent}"`;
  return `{"view":${JSON.stringify(change.view)},"key":${JSON.stringify(change.key)},"token":${JSON.stringify(change.token)}${trace},"value":${change.json}}`;
}

/**
 * `GET /v1/changes?view=V…&after=…` (docs/http-api.md): the change stream of views as
 * Server-Sent Events, or NDJSON with `Accept: application/x-ndjson`. `Last-Event-ID` (an
 * EventSource reconnecting) wins over `after`. Each change is sent only where its view key
 * may be read.
 */
export function changesRoute(feed: ChangeFeed, guard: AccessGuard): HttpRoute {
  return {
    method: 'GET',
    pattern: '/v1/changes',
    async handler({ query, headers }) {
      const params = new URLSearchParams(query);
      const views = [...new Set(params.getAll('view'))];
      if (views.length === 0) throw new FoldlineError('bad_query', 'name the views to follow: view=NAME, repeated for more', { path: '/view' });
      for (const view of views) feed.checkStreamed(view);
      const principal = guard.identify(bearerToken(headers.get('authorization')));
      guard.checkCanFollow(principal, views);
      await feed.ready;
      const from = feed.log.resumeSeq(headers.get('last-event-id') ?? params.get('after') ?? undefined);
      const format = /application\/x-ndjson/i.test(headers.get('accept') ?? '') ? ndjson : sse;
      const wanted = new Set(views);
      return {
        status: 200,
        contentType: format.contentType,
        headers: { 'cache-control': 'no-cache' },
        body: format.opening,
        stream: (sink) => void pump(sink, feed.log, from, format, (change) => wanted.has(change.view) && guard.mayRead(principal, change.view, change.key)),
      };
    },
  };
}

/** Writes the log's changes from `from` on as they come, until the client goes or falls behind what is kept. */
async function pump(sink: StreamSink, log: ChangeLog, from: number, format: ChangeFormat, wanted: (change: Change) => boolean): Promise<void> {
  let next = from;
  let wake: (() => void) | undefined;
  const rouse = (): void => {
    wake?.();
    wake = undefined;
  };
  const unlisten = log.onAppend(rouse);
  sink.onClose(rouse);
  const keepAlive = setInterval(() => sink.write(format.keepAlive), keepAliveMs);
  try {
    while (sink.open) {
      if (log.firstSeq() > next) {
        sink.write(format.expired('this stream fell behind what is kept'));
        sink.end();
        return;
      }
      const changes = log.since(next);
      if (changes.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      for (const change of changes) {
        next = change.seq + 1;
        if (!wanted(change)) continue;
        if (!sink.write(format.change(change))) await sink.writable();
        if (!sink.open) return;
      }
    }
  } finally {
    clearInterval(keepAlive);
    unlisten();
  }
}
