import { describe, expect, it } from 'vitest';
import { dueReservations, slotsToFence } from './dueReservations.js';

/** A reservation record as the reserve script writes it: slot|deadline|watermark|probe|streams. */
const record = (slot: number, deadlineMs: number) => `${slot}|${deadlineMs}|10|probe|order-1=3`;
const NOW = 50_000;

describe('dueReservations', () => {
  it('is due only once past its deadline', () => {
    const entries = { early: record(1, NOW + 1), exact: record(1, NOW), late: record(2, NOW - 1) };
    expect(dueReservations('t', 4, entries, NOW)).toEqual([
      { topic: 't', partition: 4, resId: 'late', slot: 2, own: false },
    ]);
  });

  it("with ownSlot, every reservation of an earlier incarnation of that slot is due at once; the current one's are not", () => {
    const entries = {
      '3.g1.w0.1.7': record(3, NOW + 9_000),
      '3.g1.w0.2.1': record(3, NOW + 9_000),
      '4.g2.w0.1.1': record(4, NOW + 9_000),
      '3.g1.w0.2.2': record(3, NOW - 1),
    };
    expect(dueReservations('t', 0, entries, NOW, { ownSlot: 3, ownPrefix: '3.g1.w0.2.' })).toEqual([
      { topic: 't', partition: 0, resId: '3.g1.w0.1.7', slot: 3, own: true },
      { topic: 't', partition: 0, resId: '3.g1.w0.2.2', slot: 3, own: false },
    ]);
  });

  it('without ownPrefix nothing is own', () => {
    expect(dueReservations('t', 0, { r: record(3, NOW + 1) }, NOW, { ownSlot: 3 })).toEqual([]);
  });
});

describe('slotsToFence', () => {
  it("fences each foreign owner's slot once, and never the slot this guard has just initialised", () => {
    const due = [
      { topic: 't', partition: 0, resId: 'a', slot: 2, own: false },
      { topic: 't', partition: 1, resId: 'b', slot: 2, own: false },
      { topic: 't', partition: 1, resId: 'c', slot: 3, own: true },
      { topic: 't', partition: 2, resId: 'd', slot: 5, own: false },
    ];
    expect(slotsToFence(due)).toEqual([2, 5]);
  });
});
