import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutGroup } from './cutGroup.js';

const NOW = 1_000;
const item = (id: string, events: number, deadline = NOW + 1) => ({
  id,
  deadline,
  append: { events: Array.from({ length: events }, () => ({})) },
});
const size = (i: { append: { events: readonly unknown[] } }) => i.append.events.length;
const ids = (list: readonly { id: string }[]) => list.map((i) => i.id).join('');

describe('cutGroup', () => {
  it('takes whole appends while they fit, and leaves the rest in order', () => {
    const { group, expired, rest } = cutGroup([item('a', 3), item('b', 4), item('c', 2), item('d', 1)], 8, NOW, size);
    expect([ids(group), ids(expired), ids(rest)]).toEqual(['ab', '', 'cd']);
  });

  it('takes the first append even when it alone is larger than the cap', () => {
    const { group, rest } = cutGroup([item('a', 20), item('b', 1)], 8, NOW, size);
    expect([ids(group), ids(rest)]).toEqual(['a', 'b']);
  });

  it('sets apart appends past their deadline before the cut; those behind it wait in rest', () => {
    const ready = [item('a', 1, NOW), item('b', 5), item('c', 1, NOW - 1), item('d', 5), item('e', 1, NOW)];
    const { group, expired, rest } = cutGroup(ready, 8, NOW, size);
    expect([ids(group), ids(expired), ids(rest)]).toEqual(['b', 'ac', 'de']);
  });

  it('an expired append does not count against the cap', () => {
    const { group } = cutGroup([item('a', 8, NOW), item('b', 8)], 8, NOW, size);
    expect(ids(group)).toBe('b');
  });

  it('loses nothing, keeps order, stays within the cap, and cuts only at an append that does not fit', () => {
    const ready = fc.array(fc.record({ events: fc.integer({ min: 1, max: 10 }), expired: fc.boolean() }), {
      maxLength: 30,
    });
    fc.assert(
      fc.property(ready, fc.integer({ min: 1, max: 30 }), (list, max) => {
        const queue = list.map((r, i) => item(String(i), r.events, r.expired ? NOW : NOW + 1));
        const { group, expired, rest } = cutGroup(queue, max, NOW, size);
        const cut = queue.slice(0, queue.length - rest.length);
        expect(rest).toEqual(queue.slice(cut.length));
        expect(expired).toEqual(cut.filter((i) => i.deadline <= NOW));
        expect(group).toEqual(cut.filter((i) => i.deadline > NOW));
        const events = group.reduce((n, i) => n + i.append.events.length, 0);
        if (group.length > 1) expect(events).toBeLessThanOrEqual(max);
        const next = rest[0];
        if (next) {
          expect(next.deadline).toBeGreaterThan(NOW);
          expect(group.length).toBeGreaterThan(0);
          expect(events + next.append.events.length).toBeGreaterThan(max);
        }
      }),
    );
  });

  it('takes an atomic batch only as a group of its own', () => {
    const atomic = new Set(['b']);
    const alone = (i: { id: string }) => atomic.has(i.id);
    const queue = [item('a', 1), item('b', 3), item('c', 1)];
    const first = cutGroup(queue, 10, NOW, size, alone);
    expect([ids(first.group), ids(first.rest)]).toEqual(['a', 'bc']);
    const second = cutGroup(first.rest, 10, NOW, size, alone);
    expect([ids(second.group), ids(second.rest)]).toEqual(['b', 'c']);
  });
});
