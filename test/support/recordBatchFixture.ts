import { createRequire } from 'node:module';

/**
 * Record batches encoded by kafkajs' own encoder (the bytes a broker stores and serves), so that kes' decoders
 * (pipeline/kafka/) are checked against another implementation of the format, not against themselves.
 */
const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: object) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

export interface BatchSpec {
  base: number;
  /** A record's key defaults to 'k' (null for none), its value to 'some value'. */
  records?: { key?: string | null; value?: string; headers?: Record<string, string> }[];
  producerId?: number;
  transactional?: boolean;
  /** A control batch with one marker: abort or commit. */
  marker?: 'abort' | 'commit';
  /** kafkajs' codec number (1 is gzip). */
  compression?: number;
  /** The batch's base timestamp; record i is at firstTimestamp + i. */
  firstTimestamp?: number;
}

export async function recordBatch(spec: BatchSpec): Promise<Buffer> {
  const records = spec.marker
    ? [
        Record({
          offsetDelta: 0,
          key: Buffer.from([0, 0, 0, spec.marker === 'abort' ? 0 : 1]),
          value: Buffer.alloc(6),
        }),
      ]
    : (spec.records ?? []).map((r, i) =>
        Record({
          offsetDelta: i,
          timestampDelta: i,
          key: r.key === null ? null : Buffer.from(r.key ?? 'k'),
          value: Buffer.from(r.value ?? 'some value'),
          headers: r.headers ?? {},
        }),
      );
  const encoded = await RecordBatch({
    firstOffset: Long.fromNumber(spec.base),
    firstTimestamp: spec.firstTimestamp ?? 1_000,
    lastOffsetDelta: records.length - 1,
    producerId: Long.fromNumber(spec.producerId ?? -1),
    transactional: spec.transactional ?? spec.marker !== undefined,
    compression: spec.compression ?? 0,
    records,
  });
  const b = Buffer.from(encoded.buffer);
  if (spec.marker) b.writeInt16BE(b.readInt16BE(21) | 0x20, 21); // the control bit
  return b;
}
