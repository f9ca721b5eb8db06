import { describe, expect, it } from 'vitest';
import { decodeFetchResponse, encodeFetchRequest } from './fetchV4.js';

// Layouts from the Kafka protocol guide (Fetch v4); the broker test (headerReader.int.test.ts) proves them end to end.

function int64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}
const int32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const int16 = (n: number) => Buffer.from([(n >>> 8) & 255, n & 255]);
const str = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);

describe('Fetch v4', () => {
  it('encodes a request field by field', () => {
    const b = encodeFetchRequest({
      maxWaitMs: 200,
      minBytes: 1,
      maxBytes: 1024,
      isolationLevel: 1,
      topics: [{ topic: 'tö', partitions: [{ partition: 3, fetchOffset: 2 ** 40, maxBytes: 512 }] }],
    });
    expect(b).toEqual(
      Buffer.concat([
        int32(-1), // replica id: a consumer
        int32(200),
        int32(1),
        int32(1024),
        Buffer.from([1]),
        int32(1),
        str('tö'),
        int32(1),
        int32(3),
        int64(2 ** 40),
        int32(512),
      ]),
    );
  });

  it('decodes partitions with their aborted transactions and record sets (slices, not copies)', () => {
    const records = Buffer.from('record bytes');
    const response = Buffer.concat([
      int32(0), // throttle
      int32(1),
      str('topic'),
      int32(2),
      // partition 0: one aborted transaction, a record set
      int32(0),
      int16(0),
      int64(100),
      int64(90),
      int32(1),
      int64(7),
      int64(42),
      int32(records.length),
      records,
      // partition 1: an error, no aborted list (null), no records (null)
      int32(1),
      int16(6),
      int64(-1),
      int64(-1),
      int32(-1),
      int32(-1),
    ]);
    const [p0, p1] = decodeFetchResponse(response);
    expect(p0).toMatchObject({
      topic: 'topic',
      partition: 0,
      errorCode: 0,
      highWatermark: 100,
      lastStableOffset: 90,
      aborted: [{ producerId: '7', firstOffset: '42' }],
    });
    expect(p0?.records.toString()).toBe('record bytes');
    expect(p0?.records.buffer).toBe(response.buffer);
    expect(p1).toMatchObject({ partition: 1, errorCode: 6, aborted: [] });
    expect(p1?.records.length).toBe(0);
  });
});
