import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { visibleRecords } from './committedReader.js';
import { parseKeyedBatches, UnsupportedBatchError } from './keyedBatches.js';

// Batches encoded by kafkajs' own encoder (the bytes a broker serves): the parser is checked against another
// implementation of the format.
const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: object) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

async function batch(
  base: number,
  records: { key: string | null; value?: string; headers?: Record<string, string> }[],
  options: { producerId?: number; transactional?: boolean; marker?: 'abort' | 'commit'; compression?: number } = {},
): Promise<Buffer> {
  const encoded = options.marker
    ? [
        Record({
          offsetDelta: 0,
          key: Buffer.from([0, 0, 0, options.marker === 'abort' ? 0 : 1]),
          value: Buffer.alloc(6),
        }),
      ]
    : records.map((r, i) =>
        Record({
          offsetDelta: i,
          timestampDelta: i,
          key: r.key === null ? null : Buffer.from(r.key),
          value: r.value === undefined ? null : Buffer.from(r.value),
          headers: r.headers ?? {},
        }),
      );
  const b = Buffer.from(
    (
      await RecordBatch({
        firstOffset: Long.fromNumber(base),
        firstTimestamp: 1_000,
        lastOffsetDelta: encoded.length - 1,
        producerId: Long.fromNumber(options.producerId ?? -1),
        transactional: options.transactional ?? options.marker !== undefined,
        compression: options.compression ?? 0,
        records: encoded,
      })
    ).buffer,
  );
  if (options.marker) b.writeInt16BE(b.readInt16BE(21) | 0x20, 21);
  return b;
}

describe('parseKeyedBatches', () => {
  it('decodes only the records of the key asked for, with offset, value, headers and timestamp', async () => {
    const set = Buffer.concat([
      await batch(100, [
        { key: 'a-1', value: 'v0', headers: { 'kes-version': '0', 'kes-stream': 'a-1' } },
        { key: 'a-10', value: 'other' },
        { key: null, value: 'no key' },
        { key: 'a-1', value: 'v1', headers: { 'kes-version': '1' } },
      ]),
      await batch(104, [{ key: 'b-1', value: 'x' }]),
    ]);
    const { records, lastOffset } = parseKeyedBatches(set, Buffer.from('a-1'));
    expect(lastOffset).toBe(104);
    expect(records.map((r) => [r.offset, r.key?.toString(), r.value?.toString(), r.timestamp])).toEqual([
      ['100', 'a-1', 'v0', '1000'],
      ['103', 'a-1', 'v1', '1003'],
    ]);
    expect(records[0]?.headers['kes-stream']?.toString()).toBe('a-1');
    expect(records[1]?.headers['kes-version']?.toString()).toBe('1');
  });

  it('keeps control records, so that read_committed filtering sees every abort marker', async () => {
    const set = Buffer.concat([
      await batch(
        0,
        [
          { key: 'a-1', value: 'aborted' },
          { key: 'z-9', value: 'z' },
        ],
        { producerId: 7, transactional: true },
      ),
      await batch(2, [], { producerId: 7, marker: 'abort' }),
      await batch(3, [{ key: 'a-1', value: 'committed' }], { producerId: 7, transactional: true }),
    ]);
    const { records, lastOffset } = parseKeyedBatches(set, Buffer.from('a-1'));
    expect(lastOffset).toBe(3);
    expect(records.map((r) => [r.offset, r.isControlRecord])).toEqual([
      ['0', false],
      ['2', true],
      ['3', false],
    ]);
    const visible = visibleRecords(records, [{ producerId: '7', firstOffset: '0' }], 0);
    expect(visible.map((r) => r.value?.toString())).toEqual(['committed']);
  });

  it('stops at a batch cut off by maxBytes, and refuses compressed batches (kafkajs reads those)', async () => {
    const whole = await batch(0, [{ key: 'a-1', value: 'v' }]);
    const cut = (await batch(1, [{ key: 'a-1', value: 'w' }])).subarray(0, 30);
    expect(parseKeyedBatches(Buffer.concat([whole, cut]), Buffer.from('a-1')).lastOffset).toBe(0);
    const gzip = await batch(0, [{ key: 'a-1', value: 'v' }], { compression: 1 });
    expect(() => parseKeyedBatches(gzip, Buffer.from('a-1'))).toThrow(UnsupportedBatchError);
  });
});
