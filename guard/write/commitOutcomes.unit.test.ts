import { describe, expect, it } from 'vitest';
import { commitOutcomes } from './commitOutcomes.js';

const append = (stream: string, ...ids: string[]) => ({
  append: { stream, events: ids.map((id) => ({ id, hash: `h-${id}` })) },
});

describe('commitOutcomes', () => {
  const a = append('account-1', 'e1', 'e2');
  const b = append('account-2', 'e3');
  const c = append('order-1', 'e4');
  const reserved = [
    {
      topic: 'kes.account',
      partition: 2,
      appends: [
        { item: a, first: 5, last: 6 },
        { item: b, first: 0, last: 0 },
      ],
    },
    { topic: 'kes.order', partition: 0, appends: [{ item: c, first: 3, last: 3 }] },
  ];
  const metadata = [
    { topicName: 'kes.order', partition: 0, baseOffset: '40' },
    { topicName: 'kes.account', partition: 2, baseOffset: '100' },
  ];

  it('records every event at base offset plus its place, and each partition its last offset', () => {
    expect(commitOutcomes(reserved, metadata).confirms).toEqual([
      {
        topic: 'kes.account',
        partition: 2,
        lastOffset: 102,
        events: [
          { id: 'e1', stream: 'account-1', version: 5, offset: 100, hash: 'h-e1' },
          { id: 'e2', stream: 'account-1', version: 6, offset: 101, hash: 'h-e2' },
          { id: 'e3', stream: 'account-2', version: 0, offset: 102, hash: 'h-e3' },
        ],
      },
      {
        topic: 'kes.order',
        partition: 0,
        lastOffset: 40,
        events: [{ id: 'e4', stream: 'order-1', version: 3, offset: 40, hash: 'h-e4' }],
      },
    ]);
  });

  it('answers each append with its versions and the offset of its last event, not a duplicate', () => {
    expect(commitOutcomes(reserved, metadata).answers).toEqual([
      {
        item: a,
        outcome: {
          stream: 'account-1',
          firstVersion: 5,
          lastVersion: 6,
          topic: 'kes.account',
          partition: 2,
          offset: 101,
          duplicate: false,
        },
      },
      {
        item: b,
        outcome: {
          stream: 'account-2',
          firstVersion: 0,
          lastVersion: 0,
          topic: 'kes.account',
          partition: 2,
          offset: 102,
          duplicate: false,
        },
      },
      {
        item: c,
        outcome: {
          stream: 'order-1',
          firstVersion: 3,
          lastVersion: 3,
          topic: 'kes.order',
          partition: 0,
          offset: 40,
          duplicate: false,
        },
      },
    ]);
  });

  it('a partition the broker did not report gets NaN offsets, never invented ones', () => {
    const { confirms, answers } = commitOutcomes(reserved, metadata.slice(0, 1));
    expect(confirms[0]?.lastOffset).toBeNaN();
    expect(answers[0]?.outcome.offset).toBeNaN();
    expect(answers[2]?.outcome.offset).toBe(40);
  });
});
