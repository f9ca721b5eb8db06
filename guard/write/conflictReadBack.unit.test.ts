import { describe, expect, it } from 'vitest';
import { decideReadBack, readBackRange } from './conflictReadBack.js';

const at = { topic: 'kes.account', partition: 3 };
const append = {
  stream: 'account-1',
  events: [
    { id: 'a', hash: 'ha' },
    { id: 'b', hash: 'hb' },
  ],
};
const read = (list: [number, string, string, number][]) =>
  list.map(([version, id, hash, offset]) => ({ version, id, hash, offset }));

describe('readBackRange', () => {
  it('reads the versions right after an exact expected version, or from 0 for no_stream', () => {
    expect(readBackRange(4, 9, 2)).toEqual({ lo: 5, hi: 6 });
    expect(readBackRange('no_stream', 1, 2)).toEqual({ lo: 0, hi: 1 });
    expect(readBackRange(4, 6, 2)).toEqual({ lo: 5, hi: 6 });
  });

  it('reads nothing when the stream cannot hold the whole append after the expected version', () => {
    expect(readBackRange(4, 5, 2)).toBeUndefined();
    expect(readBackRange(4, 3, 1)).toBeUndefined();
    expect(readBackRange('no_stream', 0, 2)).toBeUndefined();
  });

  it('reads nothing for any and stream_exists: they name no place the first write would be', () => {
    expect(readBackRange('any', 9, 1)).toBeUndefined();
    expect(readBackRange('stream_exists', 9, 1)).toBeUndefined();
    expect(readBackRange(4, 9, 0)).toBeUndefined();
  });
});

describe('decideReadBack', () => {
  const range = { lo: 5, hi: 6 };

  it('the same ids with the same content, in order, answer as a duplicate from the first write', () => {
    expect(
      decideReadBack(
        append,
        range,
        read([
          [5, 'a', 'ha', 40],
          [6, 'b', 'hb', 41],
        ]),
        at,
      ),
    ).toEqual({
      stream: 'account-1',
      firstVersion: 5,
      lastVersion: 6,
      topic: 'kes.account',
      partition: 3,
      offset: 41,
      duplicate: true,
    });
  });

  it.each([
    [
      'other ids',
      read([
        [5, 'x', 'ha', 40],
        [6, 'y', 'hb', 41],
      ]),
    ],
    [
      'the ids in another order',
      read([
        [5, 'b', 'hb', 40],
        [6, 'a', 'ha', 41],
      ]),
    ],
    [
      'only the first id',
      read([
        [5, 'a', 'ha', 40],
        [6, 'y', 'hy', 41],
      ]),
    ],
    [
      'other content under the same ids',
      read([
        [5, 'a', 'ha', 40],
        [6, 'b', 'other', 41],
      ]),
    ],
    ['fewer events than the append', read([[5, 'a', 'ha', 40]])],
    [
      'other versions than asked',
      read([
        [6, 'a', 'ha', 40],
        [7, 'b', 'hb', 41],
      ]),
    ],
  ])('%s: the conflict stands', (_what, events) => {
    expect(decideReadBack(append, range, events, at)).toBeUndefined();
  });
});
