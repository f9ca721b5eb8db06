import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partitionOf } from './partitioner.js';

/**
 * Reference partitions from Kafka's own Java client (kafka-clients 4.1.1, the jar the local stack runs, under
 * ~/.cache/kes/kafka-4.1.1/libs), computed on Java 17 with
 *
 *   Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % n
 *
 * (what the Java producer's default partitioner does for a keyed record) for n = 1, 4, 12 and 7, and pasted here.
 * The guard must agree with it: other clients that key by stream name land in the same partition, and the
 * partition decides which Redis keys an append's compare-and-swap touches.
 */
const REFERENCE: [key: string, partitions: [n1: number, n4: number, n12: number, n7: number]][] = [
  ['a-1', [0, 0, 4, 1]],
  ['order-1', [0, 2, 10, 4]],
  ['order-2', [0, 3, 3, 1]],
  ['order-42', [0, 0, 0, 1]],
  ['account-0', [0, 3, 11, 3]],
  ['account-9999', [0, 0, 4, 2]],
  ['bank_account-acc:123', [0, 3, 3, 2]],
  ['user-alice@example.com', [0, 1, 5, 4]],
  ['cart-2024.01.01', [0, 2, 2, 1]],
  ['payment-3f2b8c1e-7d4a-4e2b-9c1d-0a1b2c3d4e5f', [0, 3, 7, 4]],
  ['x-y', [0, 1, 1, 1]],
  ['inventory-SKU_00017', [0, 0, 0, 2]],
  // not valid stream names, but the hash must still match for any UTF-8 key
  ['é-1', [0, 3, 7, 5]],
  ['café-über', [0, 1, 5, 6]],
  ['日本-東京', [0, 3, 7, 6]],
  ['emoji-😀', [0, 0, 4, 6]],
  // long keys: the longest valid id, and a 242-character name
  [`order-${'9'.repeat(200)}`, [0, 2, 10, 4]],
  [`long_category_name_with_digits_0123456789-${'abcdefghij'.repeat(20)}`, [0, 0, 8, 6]],
  ['z', [0, 2, 2, 6]],
  ['', [0, 1, 9, 2]],
];

describe('partitionOf', () => {
  it.each(REFERENCE)('%j lands where the Java client puts it', (key, [n1, n4, n12, n7]) => {
    expect([partitionOf(key, 1), partitionOf(key, 4), partitionOf(key, 12), partitionOf(key, 7)]).toEqual([
      n1,
      n4,
      n12,
      n7,
    ]);
  });

  it('is always a partition of the topic, and the same for the same key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 1, max: 64 }), (key, n) => {
        const p = partitionOf(key, n);
        expect(Number.isInteger(p)).toBe(true);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(n);
        expect(partitionOf(key, n)).toBe(p);
      }),
    );
  });
});
