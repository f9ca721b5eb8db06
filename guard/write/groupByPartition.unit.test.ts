import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupByPartition } from './groupByPartition.js';

const at = (id: string, topic: string, partition: number) => ({ id, append: { topic, partition } });

describe('groupByPartition', () => {
  it('groups by topic and partition, partitions in order of first appearance, appends in queue order', () => {
    const group = [at('a', 't1', 1), at('b', 't2', 1), at('c', 't1', 0), at('d', 't1', 1), at('e', 't2', 1)];
    expect(groupByPartition(group).map((pg) => [pg.topic, pg.partition, pg.items.map((i) => i.id).join('')])).toEqual([
      ['t1', 1, 'ad'],
      ['t2', 1, 'be'],
      ['t1', 0, 'c'],
    ]);
  });

  it('gives nothing for an empty group', () => {
    expect(groupByPartition([])).toEqual([]);
  });

  it('keeps every append exactly once, in its partition, in queue order', () => {
    const appends = fc.array(fc.record({ topic: fc.constantFrom('a', 'b', 'c'), partition: fc.nat(3) }), {
      maxLength: 40,
    });
    fc.assert(
      fc.property(appends, (list) => {
        const group = list.map((a, i) => at(String(i), a.topic, a.partition));
        const partitions = groupByPartition(group);
        expect(partitions.reduce((n, pg) => n + pg.items.length, 0)).toBe(group.length);
        expect(new Set(partitions.map((pg) => `${pg.topic}:${pg.partition}`)).size).toBe(partitions.length);
        for (const pg of partitions) {
          expect(pg.items).toEqual(
            group.filter((i) => i.append.topic === pg.topic && i.append.partition === pg.partition),
          );
        }
        const firsts = partitions.map((pg) => group.indexOf(pg.items[0] as (typeof group)[number]));
        expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
      }),
    );
  });
});
