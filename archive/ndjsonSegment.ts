import { gunzipSync, gzipSync } from 'node:zlib';
import { FoldlineError } from '../base/errors.js';
import type { LedgerRecord } from '../ledger/types.js';
import { parseArchiveJson } from './archiveJson.js';

/*
 * A segment as gzip'd NDJSON, one `{stream, shard, seq, event}` a line, as Firehose writes
 * records: for tools that read JSON, not for speed (gunzip and JSON.parse bound it).
 */

export function encodeNdjsonSegment(records: readonly LedgerRecord[]): Uint8Array {
  return gzipSync(records.map((record) => `${JSON.stringify({ stream: record.stream, shard: record.shard, seq: record.seq, event: record.event })}\n`).join(''));
}

const chunkLines = 4096;

/** The records of an NDJSON segment, a chunk at a time; a bad line is a `bad_archive` error naming `where` and the line. */
export function decodeNdjsonSegment(bytes: Uint8Array, where: string, visit: (records: LedgerRecord[]) => void): void {
  const text = gunzipText(bytes, where);
  let records: LedgerRecord[] = [];
  let line = 0;
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf('\n', at);
    const stop = end < 0 ? text.length : end;
    line++;
    if (stop > at) records.push(parseRecordLine(text.slice(at, stop), `${where}: line ${line}`));
    at = stop + 1;
    if (records.length >= chunkLines) {
      visit(records);
      records = [];
    }
  }
  if (records.length > 0) visit(records);
}

export function gunzipText(bytes: Uint8Array, where: string): string {
  try {
    return gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw new FoldlineError('bad_archive', `${where}: cannot gunzip (${(error as Error).message}): truncated or not gzip`);
  }
}

function parseRecordLine(text: string, where: string): LedgerRecord {
  const value = parseArchiveJson(text, where) as Partial<LedgerRecord>;
  if (typeof value?.stream !== 'string' || !Number.isInteger(value.shard) || typeof value.seq !== 'string' || typeof value.event !== 'object' || value.event === null) {
    throw new FoldlineError('bad_archive', `${where}: not a {stream, shard, seq, event} record`);
  }
  return value as LedgerRecord;
}
