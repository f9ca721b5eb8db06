import { describe, expect, it } from 'vitest';
import { visibleRecords } from './committedReader.js';
import { assertReadCommittedPatched, INTERLEAVED_ABORTS, kafkajsVisibleOffsets } from './readCommittedPatch.js';

/**
 * The read_committed filter over one fetch. The case that matters: several aborted transactions of different
 * producers, interleaved, all begun before the fetched offset (several guards writing one partition, some fenced).
 */
// Producers A and B each wrote an aborted transaction, C a committed one, all interleaved.
const { log, aborted } = INTERLEAVED_ABORTS;

describe('visibleRecords (read_committed filtering of one fetch)', () => {
  it('drops every record of every aborted transaction and all markers, from any fetch offset', () => {
    for (let from = 10; from <= 19; from++) {
      const records = log.filter((r) => Number(r.offset) >= from);
      const expected = ['12', '19'].filter((o) => Number(o) >= from);
      expect(visibleRecords(records, aborted, from).map((r) => r.offset)).toEqual(expected);
    }
  });

  it('skips records before the fetch offset that the broker returned with their batch', () => {
    expect(visibleRecords(log, aborted, 13).map((r) => r.offset)).toEqual(['19']);
  });

  it("kafkajs' consumer Batch, with the kes patch, filters the same way from every fetch offset", () => {
    expect(() => assertReadCommittedPatched()).not.toThrow();
    for (let from = 10; from <= 19; from++) {
      const records = log.filter((r) => Number(r.offset) >= from);
      expect(kafkajsVisibleOffsets(from)).toEqual(visibleRecords(records, aborted, from).map((r) => r.offset));
    }
  });
});
