import { describe, expect, it } from 'vitest';
import { runInStreamLanes } from './streamLanes.js';

// Records 0..7 of streams a, b, c (key per index); `deliver` logs and can refuse one index.
const keys = ['a', 'b', 'a', 'c', 'b', 'a', 'c', 'b'];
function run(lanes: number, refuse?: number) {
  const delivered: number[] = [];
  const deliver = async (i: number) => {
    await new Promise((r) => setImmediate(r));
    if (i === refuse) return false;
    delivered.push(i);
    return true;
  };
  return runInStreamLanes([0, 1, 2, 3, 4, 5, 6, 7], (i) => keys[i] as string, lanes, deliver).then(() => delivered);
}
const ofStream = (delivered: number[], key: string) => delivered.filter((i) => keys[i] === key);

describe('runInStreamLanes', () => {
  it('with one lane, delivers in offset order and stops at the first record not delivered', async () => {
    expect(await run(1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await run(1, 3)).toEqual([0, 1, 2]);
  });

  it('with several lanes, keeps each stream in order and runs streams side by side', async () => {
    const delivered = await run(3);
    expect([...delivered].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const key of ['a', 'b', 'c'])
      expect(ofStream(delivered, key)).toEqual(keys.flatMap((k, i) => (k === key ? [i] : [])));
    expect(
      delivered
        .slice(0, 3)
        .map((i) => keys[i])
        .sort(),
    ).toEqual(['a', 'b', 'c']);
  });

  it('with several lanes, takes nothing of a stream after a record not delivered, and starts no new stream', async () => {
    const delivered = await run(2, 2); // a's second record
    expect(ofStream(delivered, 'a')).toEqual([0]);
    expect(delivered).not.toContain(5);
  });
});
