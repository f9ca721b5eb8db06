import type { AbortedTransaction } from './abortedTransactions.js';
import { forEachVisibleBatch, VarReader, type WalkedFetch } from './recordBatches.js';

/**
 * Decodes, of every visible record of a fetch, only its offset and the values of a few named headers, as columns.
 * Keys, values, timestamps and other headers are stepped over without being copied. Recovery reads millions of
 * records for five headers each (docs/guard.md, "Rebuilding").
 */

/** The columns of one decode: `offsets[i]` and, per asked-for header `h`, `values[h][i]` (undefined when absent). */
export interface HeaderColumns {
  offsets: number[];
  values: (string | undefined)[][];
}

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
 * Appends to `out` every visible record of `records` (the partition's record set from a fetch answer) at or above
 * `from` and below `until`.
 */
export function decodeHeaderColumns(
  records: Buffer,
  aborted: readonly AbortedTransaction[],
  from: number,
  until: number,
  keys: HeaderKeys,
  out: HeaderColumns,
): WalkedFetch {
  const reader = new VarReader(records);
  return forEachVisibleBatch(records, aborted, from, (batch) => {
    reader.at = batch.recordsAt;
    for (let r = 0; r < batch.count; r++) {
      const length = reader.varint();
      const recordEnd = reader.at + length;
      reader.at += 1; // attributes
      reader.skipVarlong(); // timestamp delta
      const offset = batch.baseOffset + reader.varint();
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
  });
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
