import type { AbortedTransaction } from './abortedTransactions.js';
import type { RawRecord } from './kafkajsInternals.js';
import { forEachVisibleBatch, VarReader, type WalkedFetch } from './recordBatches.js';

/**
 * Decodes whole the visible records of one key (all records when no key is given) at or above `from`, and steps over
 * every other record by its length: a stream read at an indexed offset wants one record of a batch of hundreds, and
 * kafkajs would decode them all, headers included, which was most of what such a fetch cost (bench:read). Keys,
 * values and header values are slices of the fetch answer, not copies.
 */
export interface KeyedRecords extends WalkedFetch {
  records: RawRecord[];
}

export function decodeKeyedRecords(
  buffer: Buffer,
  aborted: readonly AbortedTransaction[],
  from: number,
  key: Buffer | undefined,
): KeyedRecords {
  const records: RawRecord[] = [];
  const reader = new VarReader(buffer);
  // Every record handed over is visible: what read_committed filtering needs of it was decided per batch.
  const batchContext = { producerId: '-1', inTransaction: false };
  const walked = forEachVisibleBatch(buffer, aborted, from, (batch) => {
    reader.at = batch.recordsAt;
    for (let i = 0; i < batch.count && reader.at < batch.end; i++) {
      const length = reader.varint();
      const recordEnd = reader.at + length;
      reader.at += 1; // attributes
      const timestampDelta = reader.varlong();
      const offset = batch.baseOffset + reader.varint();
      const keyLength = reader.varint();
      const keyAt = reader.at;
      const wanted =
        offset >= from &&
        (key === undefined ||
          (keyLength === key.length && buffer.compare(key, 0, key.length, keyAt, keyAt + keyLength) === 0));
      if (!wanted) {
        reader.at = recordEnd;
        continue;
      }
      const recordKey = keyLength < 0 ? null : buffer.subarray(keyAt, keyAt + keyLength);
      reader.at = keyAt + Math.max(0, keyLength);
      const valueLength = reader.varint();
      const value = valueLength < 0 ? null : buffer.subarray(reader.at, reader.at + valueLength);
      reader.at += Math.max(0, valueLength);
      const headers: Record<string, Buffer> = {};
      const headerCount = reader.varint();
      for (let h = 0; h < headerCount; h++) {
        const nameLength = reader.varint();
        const name = buffer.toString('utf8', reader.at, reader.at + nameLength);
        reader.at += nameLength;
        const headerLength = reader.varint();
        headers[name] = buffer.subarray(reader.at, reader.at + Math.max(0, headerLength));
        reader.at += Math.max(0, headerLength);
      }
      reader.at = recordEnd;
      records.push({
        offset: String(offset),
        key: recordKey,
        value,
        headers,
        timestamp: String(batch.baseTimestamp + timestampDelta),
        isControlRecord: false,
        batchContext,
      });
    }
  });
  return { ...walked, records };
}
