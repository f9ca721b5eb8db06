import type { RawRecord } from './kafkajsInternals.js';

/**
 * A parser of Kafka record batches for one key (magic 2, uncompressed) that decodes only what a stream read needs: every
 * record's length is read to step over it, and only records whose key is the wanted one (and control records, which
 * read_committed filtering needs) are decoded whole. kafkajs decodes every record of every batch it fetches,
 * headers included, which is most of what a fetch of one batch costs (bench:read measured it); a read at an indexed
 * offset wants one record of a batch of hundreds.
 *
 * Layout (Kafka protocol, RecordBatch v2): baseOffset int64, batchLength int32, partitionLeaderEpoch int32,
 * magic int8, crc uint32, attributes int16, lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64,
 * producerId int64, producerEpoch int16, baseSequence int32, records count int32, then the records: length varint,
 * attributes int8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 null), value (same), headers
 * count varint, each header a key (varint length) and a value (varint length). Varints are zigzag-encoded.
 */

const BATCH_HEADER = 61;

export class UnsupportedBatchError extends Error {}

export interface ParsedBatches {
  records: RawRecord[];
  /** Offset of the last record of the last whole batch (NaN when none was whole). */
  lastOffset: number;
}

export function parseKeyedBatches(buffer: Buffer, key: Buffer | undefined): ParsedBatches {
  const records: RawRecord[] = [];
  let lastOffset = Number.NaN;
  let at = 0;
  while (at + BATCH_HEADER <= buffer.length) {
    const baseOffset = Number(buffer.readBigInt64BE(at));
    const batchLength = buffer.readInt32BE(at + 8);
    const end = at + 12 + batchLength;
    if (end > buffer.length) break; // a partial batch at the end of a fetch (maxBytes)
    const magic = buffer.readInt8(at + 16);
    if (magic !== 2) throw new UnsupportedBatchError(`record batch magic ${magic}`);
    const attributes = buffer.readInt16BE(at + 21);
    if ((attributes & 0x07) !== 0) throw new UnsupportedBatchError('compressed record batch');
    const inTransaction = (attributes & 0x10) !== 0;
    const isControl = (attributes & 0x20) !== 0;
    const lastOffsetDelta = buffer.readInt32BE(at + 23);
    const baseTimestamp = buffer.readBigInt64BE(at + 27);
    const producerId = buffer.readBigInt64BE(at + 43).toString();
    const count = buffer.readInt32BE(at + 57);
    const batchContext = { producerId, inTransaction };
    const reader = { at: at + BATCH_HEADER };
    for (let i = 0; i < count && reader.at < end; i++) {
      const length = varint(buffer, reader);
      const recordEnd = reader.at + length;
      reader.at += 1; // attributes
      const timestampDelta = varint(buffer, reader);
      const offsetDelta = varint(buffer, reader);
      const keyLength = varint(buffer, reader);
      const keyStart = reader.at;
      const matches =
        isControl ||
        key === undefined ||
        (keyLength === key.length && buffer.compare(key, 0, key.length, keyStart, keyStart + keyLength) === 0);
      if (!matches) {
        reader.at = recordEnd;
        continue;
      }
      const recordKey = keyLength < 0 ? null : buffer.subarray(keyStart, keyStart + keyLength);
      reader.at = keyStart + Math.max(0, keyLength);
      const valueLength = varint(buffer, reader);
      const value = valueLength < 0 ? null : buffer.subarray(reader.at, reader.at + valueLength);
      reader.at += Math.max(0, valueLength);
      const headers: Record<string, Buffer> = {};
      const headerCount = varint(buffer, reader);
      for (let h = 0; h < headerCount; h++) {
        const nameLength = varint(buffer, reader);
        const name = buffer.toString('utf8', reader.at, reader.at + nameLength);
        reader.at += nameLength;
        const valueLen = varint(buffer, reader);
        headers[name] = buffer.subarray(reader.at, reader.at + Math.max(0, valueLen));
        reader.at += Math.max(0, valueLen);
      }
      reader.at = recordEnd;
      records.push({
        offset: String(baseOffset + offsetDelta),
        key: recordKey,
        value,
        headers,
        timestamp: String(baseTimestamp + BigInt(timestampDelta)),
        isControlRecord: isControl,
        batchContext,
      });
    }
    lastOffset = baseOffset + lastOffsetDelta;
    at = end;
  }
  return { records, lastOffset };
}

/** A zigzag varint (Kafka's signed varint and varlong; lengths and deltas here fit in a double). */
function varint(buffer: Buffer, reader: { at: number }): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const byte = buffer[reader.at++];
    if (byte === undefined) throw new UnsupportedBatchError('truncated varint');
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}
