import type { LedgerRecord } from '../ledger/types.js';
import { decodeArrowSegment, encodeArrowSegment } from './arrowSegment.js';
import type { ArchiveFormat } from './manifest.js';
import { decodeNdjsonSegment, encodeNdjsonSegment } from './ndjsonSegment.js';
import { decodeParquetSegment, encodeParquetSegment } from './parquetSegment.js';

/** How one format writes a segment and reads it back, a chunk of records at a time. */
export interface SegmentCodec {
  readonly extension: string;
  encode(records: readonly LedgerRecord[]): Uint8Array;
  decode(bytes: Uint8Array, where: string, visit: (records: LedgerRecord[]) => void): void | Promise<void>;
}

export const segmentCodecs: Readonly<Record<ArchiveFormat, SegmentCodec>> = {
  arrow: { extension: 'arrow', encode: encodeArrowSegment, decode: decodeArrowSegment },
  ndjson: { extension: 'ndjson.gz', encode: encodeNdjsonSegment, decode: decodeNdjsonSegment },
  parquet: { extension: 'parquet', encode: encodeParquetSegment, decode: decodeParquetSegment },
};
