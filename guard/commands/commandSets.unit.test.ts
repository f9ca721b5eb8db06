import { describe, expect, it } from 'vitest';
import { type SetCandidate, takeTogether } from './commandSets.js';

const module = {};
const item = (request: SetCandidate['request'] = {}, traceparent?: string): SetCandidate => ({
  module,
  request,
  ...(traceparent === undefined ? {} : { traceparent }),
});

describe('takeTogether', () => {
  it('takes every waiting command up to the limit, in the order they came, and leaves the rest', () => {
    const queue = Array.from({ length: 5 }, (_, i) => item({ commandId: `c${i}` }));
    const first = queue.slice();
    expect(takeTogether(queue, 3)).toEqual(first.slice(0, 3));
    expect(queue).toEqual(first.slice(3));
  });

  it('takes a command with an expected version only first and alone', () => {
    const queue = [item(), item({ expectedVersion: 4 }), item()];
    expect(takeTogether(queue, 10)).toHaveLength(1);
    expect(takeTogether(queue, 10)).toEqual([item({ expectedVersion: 4 })]);
    expect(takeTogether(queue, 10)).toHaveLength(1);
    expect(queue).toEqual([]);
  });

  it('stops before a second command with the same command id: the retry goes in the next set', () => {
    const queue = [item({ commandId: 'a' }), item(), item({ commandId: 'a' }), item({ commandId: 'b' })];
    expect(takeTogether(queue, 10)).toHaveLength(2);
    expect(takeTogether(queue, 10)).toHaveLength(2);
  });

  it('stops before another traceparent or another module', () => {
    const queue = [item({}, 't1'), item({}, 't1'), item({}, 't2'), { module: {}, request: {}, traceparent: 't2' }];
    expect(takeTogether(queue, 10)).toHaveLength(2);
    expect(takeTogether(queue, 10)).toHaveLength(1);
    expect(takeTogether(queue, 10)).toHaveLength(1);
  });

  it('takes nothing from an empty queue', () => {
    expect(takeTogether([], 10)).toEqual([]);
  });
});
