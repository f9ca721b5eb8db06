import { describe, expect, it } from 'vitest';
import { recordBatch } from '../../test/support/recordBatchFixture.js';
import { decodeKeyedRecords } from './keyedRecords.js';

type Spec = Parameters<typeof recordBatch>[0];
const batch = (base: number, records: NonNullable<Spec['records']>, options: Omit<Spec, 'base' | 'records'> = {}) =>
  recordBatch({ base, records, ...options });
const key = (k: string) => Buffer.from(k);

describe('decodeKeyedRecords', () => {
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
    const { records, next } = decodeKeyedRecords(set, [], 100, key('a-1'));
    expect(next).toBe(105);
    expect(records.map((r) => [r.offset, r.key?.toString(), r.value?.toString(), r.timestamp])).toEqual([
      ['100', 'a-1', 'v0', '1000'],
      ['103', 'a-1', 'v1', '1003'],
    ]);
    expect(records[0]?.headers['kes-stream']?.toString()).toBe('a-1');
    expect(records[1]?.headers['kes-version']?.toString()).toBe('1');
  });

  it('decodes every record when no key is given, and none below the offset asked for', async () => {
    const set = await batch(10, [{ key: 'a-1' }, { key: null }, { key: 'b-2' }]);
    expect(decodeKeyedRecords(set, [], 11, undefined).records.map((r) => [r.offset, r.key?.toString()])).toEqual([
      ['11', undefined],
      ['12', 'b-2'],
    ]);
  });

  it('drops aborted transactions and markers, so that only committed records are returned', async () => {
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
      await batch(4, [], { producerId: 7, marker: 'commit' }),
    ]);
    const { records, next } = decodeKeyedRecords(set, [{ producerId: '7', firstOffset: '0' }], 0, key('a-1'));
    expect(next).toBe(5);
    expect(records.map((r) => [r.offset, r.value?.toString(), r.isControlRecord])).toEqual([['3', 'committed', false]]);
  });

  it('stops at a batch cut off by maxBytes, and at a compressed batch (kafkajs reads those)', async () => {
    const whole = await batch(0, [{ key: 'a-1', value: 'v' }]);
    const cut = (await batch(1, [{ key: 'a-1', value: 'w' }])).subarray(0, 30);
    expect(decodeKeyedRecords(Buffer.concat([whole, cut]), [], 0, key('a-1')).next).toBe(1);
    const gzip = await batch(1, [{ key: 'a-1', value: 'v' }], { compression: 1 });
    const walked = decodeKeyedRecords(Buffer.concat([whole, gzip]), [], 0, key('a-1'));
    expect([walked.records.length, walked.next, walked.compressed]).toEqual([1, 1, true]);
  });
});
