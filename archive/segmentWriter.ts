import type { LedgerRecord } from '../ledger/types.js';
import { checksum, type ArchiveFormat, type SegmentEntry } from './manifest.js';
import { segmentCodecs } from './segments.js';
import type { ArchiveStorage } from './storage.js';

/**
 * Writes the records of one shard, handed in seq order, as segments of about
 * `segmentBytes` of event JSON each, and lists what it wrote.
 */
export class SegmentWriter {
  readonly written: SegmentEntry[] = [];
  private pending: LedgerRecord[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly storage: ArchiveStorage,
    private readonly format: ArchiveFormat,
    private readonly segmentBytes: number,
    /** Told of each segment once it is stored. */
    private readonly onWritten?: (entry: SegmentEntry) => void,
  ) {}

  /** Adds a record; writes a segment when it makes one full. */
  async add(record: LedgerRecord): Promise<void> {
    this.pending.push(record);
    this.pendingBytes += JSON.stringify(record.event.data).length + record.event.id.length + 100;
    if (this.pendingBytes >= this.segmentBytes) await this.flush();
  }

  /** Writes what is pending as a segment; returns its entry, or undefined when nothing was. */
  async flush(): Promise<SegmentEntry | undefined> {
    const records = this.pending;
    if (records.length === 0) return undefined;
    this.pending = [];
    this.pendingBytes = 0;
    const codec = segmentCodecs[this.format];
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const bytes = codec.encode(records);
    const file = `segments/${encodeURIComponent(first.stream)}/${first.shard}/${first.seq.padStart(20, '0')}-${last.seq.padStart(20, '0')}.${codec.extension}`;
    await this.storage.put(file, bytes);
    const entry: SegmentEntry = { file, format: this.format, stream: first.stream, shard: first.shard, firstSeq: first.seq, lastSeq: last.seq, count: records.length, bytes: bytes.byteLength, sha256: checksum(bytes) };
    this.written.push(entry);
    this.onWritten?.(entry);
    return entry;
  }
}
