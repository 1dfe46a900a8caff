import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { FoldlineError } from '../base/errors.js';
import type { CloudEvent, LedgerRecord } from '../ledger/types.js';
import { parseArchiveJson } from './archiveJson.js';

/*
 * A segment as Parquet, for warehouses (DuckDB, Spark): one row per record, the event's
 * attributes as string columns, `data` as JSON text, `extra` the JSON of any other
 * attribute (null for most rows).
 */

const known = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'data']);
const columns = ['stream', 'shard', 'seq', 'id', 'source', 'type', 'time', 'subject', 'data', 'extra'] as const;

export function encodeParquetSegment(records: readonly LedgerRecord[]): Uint8Array {
  const column = <T>(of: (record: LedgerRecord) => T): T[] => records.map(of);
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'stream', data: column((r) => r.stream), type: 'STRING' },
      { name: 'shard', data: column((r) => r.shard), type: 'INT32' },
      { name: 'seq', data: column((r) => r.seq), type: 'STRING' },
      { name: 'id', data: column((r) => r.event.id), type: 'STRING' },
      { name: 'source', data: column((r) => r.event.source), type: 'STRING' },
      { name: 'type', data: column((r) => r.event.type), type: 'STRING' },
      { name: 'time', data: column((r) => r.event.time), type: 'STRING' },
      { name: 'subject', data: column((r) => r.event.subject), type: 'STRING' },
      { name: 'data', data: column((r) => JSON.stringify(r.event.data)), type: 'STRING' },
      { name: 'extra', data: column((r) => extraOf(r.event)), type: 'STRING' },
    ],
  });
  return new Uint8Array(buffer);
}

function extraOf(event: CloudEvent): string | null {
  let extra: Record<string, unknown> | undefined;
  for (const name of Object.keys(event)) if (!known.has(name) || (name === 'specversion' && event.specversion !== '1.0')) (extra ??= {})[name] = event[name];
  return extra === undefined ? null : JSON.stringify(extra);
}

/** The rows of a Parquet file as objects, after checking it has `required` columns. */
export async function parquetRows(bytes: Uint8Array, where: string, required: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let names: string[];
  try {
    names = parquetMetadata(file).schema.slice(1).map((element) => element.name);
  } catch (error) {
    throw new FoldlineError('bad_archive', `${where}: not a Parquet file (${(error as Error).message})`);
  }
  const missing = required.filter((name) => !names.includes(name));
  if (missing.length > 0) throw new FoldlineError('bad_archive', `${where}: a Parquet file of another schema (columns ${names.join(', ')}; missing ${missing.join(', ')})`);
  return (await parquetReadObjects({ file })) as Array<Record<string, unknown>>;
}

/** A row's `data`: JSON text (or already parsed by the reader, for a JSON column). */
export function dataOf(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'string') {
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
    throw new FoldlineError('bad_archive', `${where}: data is neither JSON text nor an object`);
  }
  return parseArchiveJson(value, where, 'data') as Record<string, unknown>;
}

export async function decodeParquetSegment(bytes: Uint8Array, where: string, visit: (records: LedgerRecord[]) => void): Promise<void> {
  const rows = await parquetRows(bytes, where, columns);
  const records = rows.map((row, i): LedgerRecord => {
    const at = `${where}: row ${i + 1}`;
    const event: CloudEvent = { specversion: '1.0', id: String(row['id']), source: String(row['source']), type: String(row['type']), time: String(row['time']), subject: String(row['subject']), data: dataOf(row['data'], at) };
    if (typeof row['extra'] === 'string') Object.assign(event, JSON.parse(row['extra']));
    return { stream: String(row['stream']), shard: Number(row['shard']), seq: String(row['seq']), event };
  });
  visit(records);
}
