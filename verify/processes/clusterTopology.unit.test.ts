import { describe, expect, it } from 'vitest';
import { busiestLeader, javaStringHash, transactionStatePartition } from './clusterTopology.js';

describe('cluster topology', () => {
  it("hashes as Java's String.hashCode does, wrapping at 32 bits", () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('hello')).toBe(99162322);
    // Long enough to overflow: Java gives a negative hash.
    expect(javaStringHash('kes-guard.f_abc_.12')).toBe(javaHashByBigInt('kes-guard.f_abc_.12'));
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
  });

  it('places a transactional id in __transaction_state as Kafka does (abs of the hash, MIN_VALUE to 0)', () => {
    expect(transactionStatePartition('hello', 4)).toBe(99162322 % 4);
    expect(transactionStatePartition('polygenelubricants', 50)).toBe(0);
    for (const id of ['a', 'kes-guard.x.0', 'kes-guard.x.1', 'zzzzzzzzzzzzzzzz']) {
      const p = transactionStatePartition(id, 4);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(4);
    }
  });

  it('finds the node leading most partitions, the lowest id on a tie', () => {
    const roles = (leaders: number[]) =>
      leaders.map((leader, partition) => ({ partition, leader, replicas: [], isr: [] }));
    expect(busiestLeader(roles([1, 2, 2, 3]))).toBe(2);
    expect(busiestLeader(roles([3, 1, 3, 1]))).toBe(1);
  });
});

/** The same hash computed with BigInt arithmetic, as a second opinion. */
function javaHashByBigInt(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = BigInt.asIntN(32, h * 31n + BigInt(s.charCodeAt(i)));
  return Number(h);
}
