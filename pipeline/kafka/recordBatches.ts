/**
 * Decodes the record batches (format v2) of one fetched partition, keeping only what a reader of headers needs: each
 * visible record's offset and the values of a few named headers. Keys, values, timestamps and other headers are
 * skipped without being copied, which is most of the cost kafkajs pays per record (it decodes everything, every header
 * into its own Buffer). Recovery reads millions of records for five headers each; see docs/guard.md ("Rebuilding").
 *
 * read_committed filtering follows the Java consumer, per batch: an aborted transaction the broker lists becomes
 * active at its first offset and ends at its producer's abort marker; a transactional batch of an active producer is
 * dropped; control batches are never records. Compressed batches are not decoded here: `compressed` says one was met,
 * and the caller reads that range another way.
 */
/** The columns of one decode: `offsets[i]` and, per asked-for header `h`, `values[h][i]` (undefined when absent). */
export interface HeaderColumns {
  offsets: number[];
  values: (string | undefined)[][];
}

export interface DecodedFetch {
  /** Where the next fetch starts: after the last complete batch (control and aborted batches included). */
  next: number;
  /** A compressed batch was met at `next`; nothing from it on was decoded. */
  compressed: boolean;
}

export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

const BATCH_HEADER = 61;
const ATTR_COMPRESSION = 0x07;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
/**
 * Header names as bytes, to compare with record headers without decoding their keys. Each column is one name or
 * several (the first is the current one, the others older names of the same header, met only in records an older
 * writer made): `column[k]` is the column the name `bytes[k]` fills. Current names come first, so a record written
 * today matches on its first comparison of the right length.
 */
export interface HeaderKeys {
  bytes: Buffer[];
  column: number[];
  /** Columns (one per entry of the names asked for). */
  width: number;
}
export function headerKeys(names: readonly (string | readonly string[])[]): HeaderKeys {
  const lists = names.map((n) => (typeof n === 'string' ? [n] : n));
  const bytes: Buffer[] = [];
  const column: number[] = [];
  const depth = Math.max(0, ...lists.map((l) => l.length));
  for (let d = 0; d < depth; d++) {
    lists.forEach((list, c) => {
      const name = list[d];
      if (name === undefined) return;
      bytes.push(Buffer.from(name, 'utf8'));
      column.push(c);
    });
  }
  return { bytes, column, width: lists.length };
}
export function emptyColumns(headers: number): HeaderColumns {
  return { offsets: [], values: Array.from({ length: headers }, () => []) };
}
/**
 * Appends to `out` every visible record of `records` (the partition's record set from a fetch response) at or above
 * `from` and below `until`.
 */
export function decodeRecordBatches(
  records: Buffer,
  aborted: readonly AbortedTransaction[],
  from: number,
  until: number,
  keys: HeaderKeys,
  out: HeaderColumns,
): DecodedFetch {
  const pending = [...aborted].sort((a, b) => Number(a.firstOffset) - Number(b.firstOffset));
  const active = new Set<string>();
  const reader = new VarReader(records);
  let next = from;
  let at = 0;
  while (at + BATCH_HEADER <= records.length) {
    const baseOffset = readInt64(records, at);
    const batchLength = records.readInt32BE(at + 8);
    const end = at + 12 + batchLength;
    if (end > records.length) break; // cut off by maxBytes: fetched again next time
    const magic = records.readInt8(at + 16);
    if (magic !== 2) throw new Error(`record batch at offset ${baseOffset} has magic ${magic}; only v2 is read`);
    const attributes = records.readInt16BE(at + 21);
    const lastOffset = baseOffset + records.readInt32BE(at + 23);
    const producerId = readInt64(records, at + 43);
    const count = records.readInt32BE(at + 57);
    if (lastOffset < from) {
      at = end;
      continue;
    }
    if (producerId >= 0) {
      while (pending.length > 0 && Number(pending[0]?.firstOffset) <= lastOffset) {
        active.add(String(pending.shift()?.producerId));
      }
      if ((attributes & ATTR_CONTROL) !== 0) {
        if (isAbortMarker(records, at + BATCH_HEADER, reader)) active.delete(String(producerId));
      }
    }
    const skip =
      (attributes & ATTR_CONTROL) !== 0 || ((attributes & ATTR_TRANSACTIONAL) !== 0 && active.has(String(producerId)));
    if (!skip) {
      if ((attributes & ATTR_COMPRESSION) !== 0) return { next, compressed: true };
      reader.at = at + BATCH_HEADER;
      for (let r = 0; r < count; r++) {
        const length = reader.varint();
        const recordEnd = reader.at + length;
        reader.at += 1; // attributes
        reader.varlong(); // timestamp delta
        const offset = baseOffset + reader.varint();
        if (offset >= from && offset < until) {
          reader.skipBytes(); // key
          reader.skipBytes(); // value
          const row = out.offsets.length;
          out.offsets.push(offset);
          for (const column of out.values) column.push(undefined);
          const headers = reader.varint();
          for (let h = 0; h < headers; h++) {
            const keyLength = reader.varint();
            const keyAt = reader.at;
            reader.at += keyLength;
            const valueLength = reader.varint();
            const k = keyIndex(records, keyAt, keyLength, keys.bytes);
            if (k >= 0 && valueLength >= 0) {
              const c = keys.column[k] as number;
              (out.values[c] as (string | undefined)[])[row] = utf8(records, reader.at, reader.at + valueLength);
            }
            if (valueLength > 0) reader.at += valueLength;
          }
        }
        reader.at = recordEnd;
      }
    }
    next = lastOffset + 1;
    at = end;
  }
  return { next, compressed: false };
}
/** A control batch's record key is version (int16) and type (int16); type 0 is an abort marker. */
function isAbortMarker(records: Buffer, recordAt: number, reader: VarReader): boolean {
  reader.at = recordAt;
  reader.varint(); // length
  reader.at += 1;
  reader.varlong();
  reader.varint();
  const keyLength = reader.varint();
  return keyLength >= 4 && records.readInt16BE(reader.at + 2) === 0;
}
// Byte loops, not Buffer.compare: header keys are a few bytes, and a native call per header cost more than the
// comparison (a third of the decoding time in a profile). Compared from the end: ce_* and kes-* keys share their start.
function keyIndex(records: Buffer, at: number, length: number, keys: readonly Buffer[]): number {
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as Buffer;
    if (key.length !== length) continue;
    let i = length - 1;
    while (i >= 0 && key[i] === records[at + i]) i--;
    if (i < 0) return k;
  }
  return -1;
}
/** Buffer#toString without its argument checks: Node's own utf8Slice, which toString calls, where it exists. */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: (start: number, end: number) => string }).utf8Slice;
const utf8 = utf8Slice
  ? (b: Buffer, start: number, end: number): string => utf8Slice.call(b, start, end)
  : (b: Buffer, start: number, end: number): string => b.toString('utf8', start, end);
/** int64 as a number: offsets and producer ids stay far below 2^53. */
function readInt64(b: Buffer, at: number): number {
  return b.readInt32BE(at) * 0x1_0000_0000 + b.readUInt32BE(at + 4);
}
/** Zig-zag varints of the record format, read in place. */
class VarReader {
  at = 0;
  constructor(private readonly b: Buffer) {}
  varint(): number {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.b[this.at++] as number;
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while ((byte & 0x80) !== 0 && shift < 35);
    return (value >>> 1) ^ -(value & 1);
  }
  varlong(): void {
    while (((this.b[this.at++] as number) & 0x80) !== 0) {}
  }
  skipBytes(): void {
    const length = this.varint();
    if (length > 0) this.at += length;
  }
}
