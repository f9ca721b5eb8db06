import { AbortedFilter, type AbortedTransaction } from './abortedTransactions.js';

/**
 * Walks the record batches (format v2) of one fetched partition and hands each batch a read_committed reader may see
 * to a decoder, which reads only the parts of its records it needs (`headerColumns.ts`: a few headers of every record;
 * `keyedRecords.ts`: whole records of one key). kafkajs decodes every record of a fetch whole, every header into its
 * own Buffer, which was most of what recovery and stream reads paid per record (docs/guard.md, docs/reading.md).
 *
 * Visibility is `AbortedFilter`'s, applied per batch: control batches are never records, and a transactional batch of
 * an active aborted producer is dropped. Compressed batches are not decoded here: the walk stops at the first one a
 * reader would see and says so (`compressed`), and the caller reads from there through kafkajs, which decompresses.
 *
 * Layout (Kafka protocol, RecordBatch v2): baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8,
 * crc uint32, attributes int16, lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64, producerId int64,
 * producerEpoch int16, baseSequence int32, records count int32, then the records: length varint, attributes int8,
 * timestampDelta varlong, offsetDelta varint, key (varint length, -1 null), value (same), headers count varint, each
 * header a key (varint length) and a value (varint length). Varints are zigzag-encoded.
 */

/** A batch the walk hands over. One object, reused: valid only during the call. */
export interface VisibleBatch {
  baseOffset: number;
  lastOffset: number;
  baseTimestamp: number;
  /** Records in the batch. */
  count: number;
  /** Where its first record starts, and where the batch ends, in the record set. */
  recordsAt: number;
  end: number;
}

export interface WalkedFetch {
  /** Where the next fetch starts: after the last complete batch walked (control and aborted batches included). */
  next: number;
  /** A compressed batch was met at `next`; nothing from it on was walked. */
  compressed: boolean;
}

/** A record set kes cannot decode here (a message format older than v2, or a truncated varint). */
export class UnsupportedBatchError extends Error {}

const BATCH_HEADER = 61;
const ATTR_COMPRESSION = 0x07;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;

/**
 * Calls `onBatch` for every batch of `records` (the partition's record set from a fetch answer) that holds offsets at
 * or above `from` and that a read_committed reader sees. A batch cut off at the end (the fetch's size limit) is left
 * for the next fetch.
 */
export function forEachVisibleBatch(
  records: Buffer,
  aborted: readonly AbortedTransaction[],
  from: number,
  onBatch: (batch: VisibleBatch) => void,
): WalkedFetch {
  const filter = new AbortedFilter(aborted);
  const reader = new VarReader(records);
  const batch: VisibleBatch = { baseOffset: 0, lastOffset: 0, baseTimestamp: 0, count: 0, recordsAt: 0, end: 0 };
  let next = from;
  let at = 0;
  while (at + BATCH_HEADER <= records.length) {
    const baseOffset = readInt64(records, at);
    const end = at + 12 + records.readInt32BE(at + 8);
    if (end > records.length) break;
    const magic = records.readInt8(at + 16);
    if (magic !== 2) throw new UnsupportedBatchError(`record batch at offset ${baseOffset} has magic ${magic}`);
    const attributes = records.readInt16BE(at + 21);
    const lastOffset = baseOffset + records.readInt32BE(at + 23);
    if (lastOffset < from) {
      at = end;
      continue;
    }
    const producerId = readInt64(records, at + 43);
    const control = (attributes & ATTR_CONTROL) !== 0;
    let skip = control;
    if (producerId >= 0) {
      const producer = String(producerId);
      filter.reach(lastOffset);
      if (control && isAbortMarker(reader, at + BATCH_HEADER)) filter.abortMarker(producer);
      else if ((attributes & ATTR_TRANSACTIONAL) !== 0 && filter.aborted(producer)) skip = true;
    }
    if (!skip) {
      if ((attributes & ATTR_COMPRESSION) !== 0) return { next, compressed: true };
      batch.baseOffset = baseOffset;
      batch.lastOffset = lastOffset;
      batch.baseTimestamp = readInt64(records, at + 27);
      batch.count = records.readInt32BE(at + 57);
      batch.recordsAt = at + BATCH_HEADER;
      batch.end = end;
      onBatch(batch);
    }
    next = lastOffset + 1;
    at = end;
  }
  return { next, compressed: false };
}

/** A control batch's record key is version (int16) and type (int16); type 0 is an abort marker. */
function isAbortMarker(reader: VarReader, recordAt: number): boolean {
  reader.at = recordAt;
  reader.varint(); // length
  reader.at += 1; // attributes
  reader.skipVarlong(); // timestamp delta
  reader.varint(); // offset delta
  const keyLength = reader.varint();
  return keyLength >= 4 && reader.buffer.readInt16BE(reader.at + 2) === 0;
}

/** int64 as a number: offsets, timestamps and producer ids stay far below 2^53. */
export function readInt64(b: Buffer, at: number): number {
  return b.readInt32BE(at) * 0x1_0000_0000 + b.readUInt32BE(at + 4);
}

/** The record format's zigzag varints, read in place. */
export class VarReader {
  at = 0;
  constructor(readonly buffer: Buffer) {}

  /** A varint of up to 32 bits: lengths, counts, offset deltas. */
  varint(): number {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.buffer[this.at++] as number;
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while ((byte & 0x80) !== 0 && shift < 35);
    return (value >>> 1) ^ -(value & 1);
  }

  /** A varlong as a number (exact below 2^53): a timestamp delta. */
  varlong(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.buffer[this.at++];
      if (byte === undefined) throw new UnsupportedBatchError(`truncated varint at ${this.at - 1}`);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }

  skipVarlong(): void {
    while (((this.buffer[this.at++] as number) & 0x80) !== 0) {}
  }

  /** Steps over a length-prefixed field (a key or a value; -1 is null). */
  skipBytes(): void {
    const length = this.varint();
    if (length > 0) this.at += length;
  }
}
