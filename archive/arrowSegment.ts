import { Dictionary, Field, Float64, Int32, makeData, makeVector, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, TimestampMillisecond, Type, Utf8, type Data, type DataType } from 'apache-arrow';
import { FoldlineError } from '../base/errors.js';
import type { CloudEvent, LedgerRecord } from '../ledger/types.js';
import { parseArchiveJson } from './archiveJson.js';

/*
 * A segment in Arrow IPC (file format), one record batch per segment, one row per record.
 * Strings that repeat (stream, source, type, subject) are dictionary-encoded, so a reader
 * decodes each distinct value once, and the time is an integer (ms). `data` is columnar
 * too, one nullable column `data.<member>` per top-level member the segment's events have:
 * dictionary-encoded strings where every value of the member is a string, float64 where
 * every one is a number, JSON text otherwise (objects, arrays, a mix). A row's `data` gets
 * the members whose column is not null there; a reader needs no JSON.parse for most events.
 * Attributes other than the usual ones, and a time whose text is not the canonical form of
 * its ms, go in `extra` (JSON, null for most rows), so every event comes back as it went
 * in (its `data` members in the segment's column order).
 */

const known = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'data']);
export const dataPrefix = 'data.';

const dictionary = (id: number): Dictionary<Utf8, Int32> => new Dictionary(new Utf8(), new Int32(), id);

/** The columns every segment has, in order; the `data.` columns follow. */
const fixedFields = [
  new Field('stream', dictionary(0), false),
  new Field('shard', new Int32(), false),
  // float64 when every seq of the segment is an integer below 2^53 (a string costs more to read), else utf8
  new Field('seq', new Float64(), false),
  new Field('id', new Utf8(), false),
  new Field('source', dictionary(1), false),
  new Field('type', dictionary(2), false),
  new Field('time', new TimestampMillisecond(), false),
  new Field('subject', dictionary(3), false),
  new Field('extra', new Utf8(), true),
];

/** Collects the values of one string column (null: absent). */
class StringColumn {
  private readonly texts: string[] = [];
  private readonly valid: boolean[] = [];
  private nulls = 0;

  push(text: string | null): void {
    if (text === null) this.nulls++;
    this.valid.push(text !== null);
    this.texts.push(text ?? '');
  }

  padTo(length: number): void {
    while (this.texts.length < length) this.push(null);
  }

  data(): Data<Utf8> {
    const offsets = new Int32Array(this.texts.length + 1);
    let at = 0;
    this.texts.forEach((text, i) => (offsets[i + 1] = at += Buffer.byteLength(text, 'utf8')));
    return makeData({ type: new Utf8(), length: this.texts.length, nullCount: this.nulls, valueOffsets: offsets, data: Buffer.from(this.texts.join(''), 'utf8'), ...nullBitmapOf(this.valid, this.nulls) });
  }
}

class DictionaryColumn {
  private readonly index = new Map<string, number>();
  private readonly values = new StringColumn();
  private readonly indices: number[] = [];
  private readonly valid: boolean[] = [];
  private nulls = 0;
  constructor(private readonly type: Dictionary<Utf8, Int32>) {}

  push(text: string | null): void {
    this.valid.push(text !== null);
    if (text === null) {
      this.nulls++;
      this.indices.push(0);
      return;
    }
    let at = this.index.get(text);
    if (at === undefined) {
      this.index.set(text, (at = this.index.size));
      this.values.push(text);
    }
    this.indices.push(at);
  }

  data(): Data<Dictionary<Utf8, Int32>> {
    return makeData({ type: this.type, length: this.indices.length, nullCount: this.nulls, data: Int32Array.from(this.indices), dictionary: makeVector(this.values.data()), ...nullBitmapOf(this.valid, this.nulls) });
  }
}

function nullBitmapOf(valid: readonly boolean[], nulls: number): { nullBitmap?: Uint8Array } {
  if (nulls === 0) return {};
  const bits = new Uint8Array(Math.ceil(valid.length / 8));
  valid.forEach((ok, i) => {
    if (ok) bits[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap: bits };
}

/** The column type a data member gets: by what all its values in the segment are. */
type MemberKind = 'string' | 'number' | 'json';

function kindOf(value: unknown): MemberKind {
  return typeof value === 'string' ? 'string' : typeof value === 'number' && Number.isFinite(value) ? 'number' : 'json';
}

/** The records as one Arrow IPC file. */
export function encodeArrowSegment(records: readonly LedgerRecord[]): Uint8Array {
  const members = new Map<string, MemberKind>();
  for (const { event } of records) {
    for (const name of Object.keys(event.data)) {
      const kind = kindOf(event.data[name]);
      const seen = members.get(name);
      members.set(name, seen === undefined || seen === kind ? kind : 'json');
    }
  }
  const dictionaryType = (field: number): Dictionary<Utf8, Int32> => fixedFields[field]!.type as Dictionary<Utf8, Int32>;
  const stream = new DictionaryColumn(dictionaryType(0));
  const shard = new Int32Array(records.length);
  const numericSeqs = records.every(({ seq }) => seq.length < 16);
  const seqTexts = new StringColumn();
  const seqNumbers = new Float64Array(numericSeqs ? records.length : 0);
  const id = new StringColumn();
  const source = new DictionaryColumn(dictionaryType(4));
  const eventType = new DictionaryColumn(dictionaryType(5));
  const time = new BigInt64Array(records.length);
  const subject = new DictionaryColumn(dictionaryType(7));
  const extra = new StringColumn();
  let nextDictionary = 4;
  const dataColumns = [...members].map(([name, kind]) => {
    const type: DataType = kind === 'string' ? dictionary(nextDictionary++) : kind === 'number' ? new Float64() : new Utf8();
    return { name, kind, field: new Field(`${dataPrefix}${name}`, type, true), strings: kind === 'string' ? new DictionaryColumn(type as Dictionary<Utf8, Int32>) : kind === 'json' ? new StringColumn() : undefined, numbers: new Float64Array(kind === 'number' ? records.length : 0), valid: [] as boolean[], nulls: 0 };
  });
  records.forEach((record, i) => {
    const { event } = record;
    stream.push(record.stream);
    shard[i] = record.shard;
    if (numericSeqs) seqNumbers[i] = Number(record.seq);
    else seqTexts.push(record.seq);
    id.push(event.id);
    source.push(event.source);
    eventType.push(event.type);
    const ms = Date.parse(event.time);
    time[i] = BigInt(Number.isFinite(ms) ? ms : 0);
    subject.push(event.subject);
    extra.push(extraOf(event, ms));
    for (const column of dataColumns) {
      const present = Object.hasOwn(event.data, column.name);
      const value = present ? event.data[column.name] : undefined;
      if (column.kind === 'number') {
        column.valid.push(present);
        if (present) column.numbers[i] = value as number;
        else column.nulls++;
      } else if (column.kind === 'string') (column.strings as DictionaryColumn).push(present ? (value as string) : null);
      else (column.strings as StringColumn).push(present ? JSON.stringify(value) : null);
    }
  });
  const fields = [...fixedFields.map((field) => (field.name === 'seq' && !numericSeqs ? new Field('seq', new Utf8(), false) : field)), ...dataColumns.map((column) => column.field)];
  const children: Data[] = [
    stream.data(),
    makeData({ type: new Int32(), length: records.length, nullCount: 0, data: shard }),
    numericSeqs ? makeData({ type: new Float64(), length: records.length, nullCount: 0, data: seqNumbers }) : seqTexts.data(),
    id.data(),
    source.data(),
    eventType.data(),
    makeData({ type: new TimestampMillisecond(), length: records.length, nullCount: 0, data: time }),
    subject.data(),
    extra.data(),
    ...dataColumns.map((column) =>
      column.kind === 'number' ? makeData({ type: new Float64(), length: records.length, nullCount: column.nulls, data: column.numbers, ...nullBitmapOf(column.valid, column.nulls) }) : column.strings!.data(),
    ),
  ];
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: records.length, nullCount: 0, children }));
  return tableToIPC(new Table([batch]), 'file');
}

/** What the fixed columns cannot hold: other attributes, and a time text that is not the canonical form of its ms. */
function extraOf(event: CloudEvent, ms: number): string | null {
  let extra: Record<string, unknown> | undefined;
  for (const name of Object.keys(event)) {
    if (!known.has(name)) (extra ??= {})[name] = event[name];
  }
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== event.time) (extra ??= {})['time'] = event.time;
  if (event.specversion !== '1.0') (extra ??= {})['specversion'] = event.specversion;
  return extra === undefined ? null : JSON.stringify(extra);
}

/** Rows handed to `visit` at once. */
const chunkRows = 4096;

/**
 * The records of an Arrow segment, a chunk at a time (`visit` is called once per chunk, in
 * order). A file that is not one of ours (another schema, or not Arrow) is a `bad_archive`
 * error naming `where`, and a bad row its number.
 */
export function decodeArrowSegment(bytes: Uint8Array, where: string, visit: (records: LedgerRecord[]) => void): void {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new FoldlineError('bad_archive', `${where}: not an Arrow IPC file (${(error as Error).message})`);
  }
  checkSchema(table.schema, where);
  let rowBase = 0;
  for (const batch of table.batches) {
    const column = (name: string): Data => batch.getChild(name)!.data[0]!;
    const stream = dictionaryReader(column('stream'));
    const shardData = column('shard');
    const shards = shardData.values as Int32Array;
    const seq = seqReader(column('seq'));
    const id = utf8Reader(column('id'));
    const source = dictionaryReader(column('source'));
    const type = dictionaryReader(column('type'));
    const timeOf = millisReader(column('time'));
    const subject = dictionaryReader(column('subject'));
    const extraData = column('extra');
    const extra = utf8Reader(extraData);
    const hasExtra = presence(extraData);
    const members = table.schema.fields.filter((field) => field.name.startsWith(dataPrefix)).map((field) => memberReader(field, column(field.name)));
    const times = new TimeTexts();
    for (let start = 0; start < batch.numRows; start += chunkRows) {
      const end = Math.min(batch.numRows, start + chunkRows);
      for (const member of members) member.chunk?.(start, end, `${where}: rows ${rowBase + start + 1} to ${rowBase + end}`);
      const records: LedgerRecord[] = new Array(end - start);
      for (let i = start; i < end; i++) {
        const data: Record<string, unknown> = {};
        for (const member of members) if (member.present(i)) setMember(data, member.name, member.value(i));
        const event: CloudEvent = { specversion: '1.0', id: id(i), source: source(i), type: type(i), time: times.of(timeOf(i)), subject: subject(i), data };
        if (hasExtra(i)) Object.assign(event, parseArchiveJson(extra(i), `${where}: row ${rowBase + i + 1}: extra`));
        records[i - start] = { stream: stream(i), shard: shards[shardData.offset + i]!, seq: seq(i), event };
      }
      visit(records);
    }
    rowBase += batch.numRows;
  }
}

/** Sets a member as JSON.parse would: `__proto__` too is an own member, not the prototype. */
function setMember(data: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(data, name, { value, enumerable: true, writable: true, configurable: true });
  else data[name] = value;
}


function checkSchema(schema: Schema, where: string): void {
  const describe = (fields: readonly Field[]): string => fields.map((field) => `${field.name}: ${field.type}`).join(', ');
  const fixed = schema.fields.slice(0, fixedFields.length);
  const same =
    fixed.length === fixedFields.length &&
    fixed.every((field, i) => field.name === fixedFields[i]!.name && (field.type.typeId === fixedFields[i]!.type.typeId || (field.name === 'seq' && field.type.typeId === Type.Utf8)));
  const dataOk = schema.fields.slice(fixedFields.length).every((field) => field.name.startsWith(dataPrefix) && [Type.Dictionary, Type.Float, Type.Utf8].includes(field.type.typeId));
  if (!same || !dataOk) throw new FoldlineError('bad_archive', `${where}: an Arrow file of another schema (${describe(schema.fields)})`);
}

/** Whether a nullable column has a value at a row (Arrow's nullCount is a getter that may count: read it once). */
function presence(data: Data): (i: number) => boolean {
  const nulls = data.nullCount;
  const bitmap = data.nullBitmap;
  if (nulls === 0) return () => true;
  if (nulls === data.length || !bitmap) return () => false;
  return (i) => {
    const at = data.offset + i;
    return (bitmap[at >> 3]! & (1 << (at & 7))) !== 0;
  };
}

/** A string column's values, each decoded when read as a flat string (a slice of one big string would keep all of it alive). */
function utf8Reader(data: Data): (i: number) => string {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (i: number): string => buffer.toString('utf8', offsets[data.offset + i]!, offsets[data.offset + i + 1]!);
}

/** A dictionary column: each distinct value decoded once, looked up by row. */
function dictionaryReader(data: Data): (i: number) => string {
  const dictionaryData = data.dictionary!.data[0]!;
  const read = utf8Reader(dictionaryData);
  const values = Array.from({ length: dictionaryData.length }, (_, i) => read(i));
  const indices = data.values as Int32Array;
  return (i: number): string => values[indices[data.offset + i]!]!;
}

function seqReader(data: Data): (i: number) => string {
  if (data.typeId === Type.Utf8) return utf8Reader(data);
  const values = data.values as Float64Array;
  return (i) => String(values[data.offset + i]);
}

function millisReader(data: Data): (i: number) => number {
  const values = data.values as BigInt64Array | Int32Array;
  if (values instanceof BigInt64Array) return (i) => Number(values[data.offset + i]);
  // Older Arrow builds keep 64-bit integers as pairs of 32-bit words.
  return (i) => (values[(data.offset + i) * 2]! >>> 0) + values[(data.offset + i) * 2 + 1]! * 2 ** 32;
}

interface MemberReader {
  name: string;
  present(i: number): boolean;
  value(i: number): unknown;
  /** Readies rows `start` to `end` (a JSON column parses them in one go). */
  chunk?(start: number, end: number, where: string): void;
}

function memberReader(field: Field, data: Data): MemberReader {
  const name = field.name.slice(dataPrefix.length);
  const present = presence(data);
  switch (field.type.typeId) {
    case Type.Dictionary:
      return { name, present, value: dictionaryReader(data) };
    case Type.Float: {
      const values = data.values as Float64Array;
      return { name, present, value: (i) => values[data.offset + i] };
    }
    default: {
      let parsed: unknown[] = [];
      let first = 0;
      return {
        name,
        present,
        value: (i) => parsed[i - first],
        chunk(start, end, where) {
          first = start;
          parsed = parseArchiveJson(joinedJson(data, present, start, end), `${where}: data member ${JSON.stringify(name)}`) as unknown[];
        },
      };
    }
  }
}

/** Rows `start` to `end` of a column of JSON texts as the text of one JSON array (null where a row has none). */
function joinedJson(data: Data, present: (i: number) => boolean, start: number, end: number): string {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const out = Buffer.allocUnsafe(offsets[data.offset + end]! - offsets[data.offset + start]! + (end - start) * 5 + 2);
  let at = 0;
  for (let i = start; i < end; i++) {
    out[at++] = i === start ? 0x5b : 0x2c;
    if (!present(i)) at += out.write('null', at, 'latin1');
    else {
      const from = offsets[data.offset + i]!;
      const to = offsets[data.offset + i + 1]!;
      out.set(bytes.subarray(from, to), at);
      at += to - from;
    }
  }
  out[at++] = 0x5d;
  return out.toString('utf8', 0, at);
}

/**
 * ISO texts of ms times, as `Date#toISOString` writes them, built from a cached hour prefix:
 * a segment's times are close together.
 */
class TimeTexts {
  private hour = Number.NaN;
  private prefix = '';

  of(ms: number): string {
    if (!(ms >= 0 && ms < 253402300800000)) return new Date(ms).toISOString();
    const hour = Math.floor(ms / 3_600_000);
    if (hour !== this.hour) {
      this.hour = hour;
      this.prefix = new Date(hour * 3_600_000).toISOString().slice(0, 14);
    }
    const inHour = ms - hour * 3_600_000;
    const minutes = Math.floor(inHour / 60_000);
    const seconds = Math.floor((inHour % 60_000) / 1000);
    const millis = inHour % 1000;
    return `${this.prefix}${minutes < 10 ? '0' : ''}${minutes}:${seconds < 10 ? '0' : ''}${seconds}.${millis < 100 ? (millis < 10 ? '00' : '0') : ''}${millis}Z`;
  }
}
