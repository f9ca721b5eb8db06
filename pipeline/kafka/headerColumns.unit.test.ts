import { describe, expect, it } from 'vitest';
import { recordBatch as batch } from '../../test/support/recordBatchFixture.js';
import { decodeHeaderColumns, emptyColumns, type HeaderColumns, headerKeys } from './headerColumns.js';
import { UnsupportedBatchError } from './recordBatches.js';

const NAMES = ['ce_subject', 'kes-version'];

function ev(stream: string, version: number) {
  return { headers: { ce_type: 'T', ce_subject: stream, 'kes-version': String(version), other: 'x' } };
}

function decode(records: Buffer, from = 0, until = 1e9, aborted: { producerId: string; firstOffset: string }[] = []) {
  const out: HeaderColumns = emptyColumns(NAMES.length);
  const result = decodeHeaderColumns(records, aborted, from, until, headerKeys(NAMES), out);
  return { ...result, out };
}

describe('decodeHeaderColumns', () => {
  it('gives each record its offset and the asked-for headers, undefined where one is missing', async () => {
    const set = Buffer.concat([
      await batch({ base: 0, records: [ev('a-1', 0), ev('a-2', 0), { headers: { ce_subject: 'a-3' } }] }),
      await batch({ base: 3, records: [ev('a-1', 1)] }),
    ]);
    const { out, next, compressed } = decode(set);
    expect(out.offsets).toEqual([0, 1, 2, 3]);
    expect(out.values).toEqual([
      ['a-1', 'a-2', 'a-3', 'a-1'],
      ['0', '0', undefined, '1'],
    ]);
    expect(next).toBe(4);
    expect(compressed).toBe(false);
  });

  it('keeps only offsets in [from, until), and starts the next fetch after the last whole batch', async () => {
    const set = Buffer.concat([
      await batch({ base: 10, records: [ev('a', 0), ev('a', 1), ev('a', 2)] }),
      await batch({ base: 13, records: [ev('a', 3), ev('a', 4)] }),
    ]);
    const { out, next } = decode(set, 11, 14);
    expect(out.offsets).toEqual([11, 12, 13]);
    expect(next).toBe(15);
  });

  it('leaves a batch cut off by the fetch size for the next fetch', async () => {
    const first = await batch({ base: 0, records: [ev('a', 0)] });
    const second = await batch({ base: 1, records: [ev('a', 1), ev('a', 2)] });
    const { out, next } = decode(Buffer.concat([first, second.subarray(0, second.length - 5)]));
    expect(out.offsets).toEqual([0]);
    expect(next).toBe(1);
  });

  it('drops aborted transactions of interleaved producers, up to each abort marker, and never returns markers', async () => {
    const set = Buffer.concat([
      await batch({ base: 0, producerId: 7, transactional: true, records: [ev('x', 0), ev('x', 1)] }), // aborted
      await batch({ base: 2, producerId: 8, transactional: true, records: [ev('y', 0), ev('y', 1)] }), // committed
      await batch({ base: 4, producerId: 7, marker: 'abort' }),
      await batch({ base: 5, producerId: 8, marker: 'commit' }),
      await batch({ base: 6, producerId: 7, transactional: true, records: [ev('x', 0)] }), // committed later
      await batch({ base: 7, producerId: 9, transactional: true, records: [ev('z', 0)] }), // aborted
      await batch({ base: 8, records: [ev('w', 0)] }), // not transactional
      await batch({ base: 9, producerId: 7, marker: 'commit' }),
      await batch({ base: 10, producerId: 9, marker: 'abort' }),
    ]);
    const aborted = [
      { producerId: '9', firstOffset: '7' },
      { producerId: '7', firstOffset: '0' },
    ];
    const { out, next } = decode(set, 0, 1e9, aborted);
    expect(out.offsets).toEqual([2, 3, 6, 8]);
    expect(out.values[0]).toEqual(['y', 'y', 'x', 'w']);
    expect(next).toBe(11);
    // from inside the range: the aborted transactions the broker lists still apply
    expect(decode(set, 3, 1e9, aborted).out.offsets).toEqual([3, 6, 8]);
  });

  it('stops at a compressed batch and says so', async () => {
    const set = Buffer.concat([
      await batch({ base: 0, records: [ev('a', 0)] }),
      await batch({ base: 1, records: [ev('a', 1)], compression: 1 }),
    ]);
    const { out, next, compressed } = decode(set);
    expect(out.offsets).toEqual([0]);
    expect(next).toBe(1);
    expect(compressed).toBe(true);
  });

  it('fills a column from an older name of its header when a record has that instead', async () => {
    const set = await batch({
      base: 0,
      records: [
        { headers: { ce_subject: 'a-1', 'kes-version': '0' } },
        { headers: { 'kes-stream': 'a-2', 'kes-version': '0' } },
        { headers: { 'kes-version': '1' } },
      ],
    });
    const out: HeaderColumns = emptyColumns(2);
    decodeHeaderColumns(set, [], 0, 1e9, headerKeys([['ce_subject', 'kes-stream'], 'kes-version']), out);
    expect(out.values).toEqual([
      ['a-1', 'a-2', undefined],
      ['0', '0', '1'],
    ]);
  });

  it('puts current names before older ones, so a current record matches on its first comparison', () => {
    const keys = headerKeys([['ce_subject', 'kes-stream'], 'kes-version', ['ce_id', 'kes-event-id']]);
    expect(keys.bytes.map((b) => b.toString())).toEqual([
      'ce_subject',
      'kes-version',
      'ce_id',
      'kes-stream',
      'kes-event-id',
    ]);
    expect(keys.column).toEqual([0, 1, 2, 0, 2]);
    expect(keys.width).toBe(3);
  });

  it('refuses a message format older than v2', async () => {
    const set = await batch({ base: 0, records: [ev('a', 0)] });
    set.writeInt8(1, 16); // magic
    expect(() => decode(set)).toThrow(UnsupportedBatchError);
  });

  it('reads long header values and keys of any size (multi-byte varints)', async () => {
    const long = 'v'.repeat(300);
    const { out } = decode(
      await batch({
        base: 0,
        records: [{ headers: { ce_subject: long, ['h'.repeat(200)]: 'y' }, value: 'x'.repeat(70_000) }],
      }),
    );
    expect(out.values[0]).toEqual([long]);
  });
});
