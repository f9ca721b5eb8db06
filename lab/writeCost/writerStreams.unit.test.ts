import { describe, expect, it } from 'vitest';
import { WriterStreams } from './writerStreams.js';

describe('WriterStreams', () => {
  it('gives every writer streams of its own, starting empty', () => {
    const s = new WriterStreams('account', 'p1', 3, 2);
    const all = [0, 1, 2].flatMap((w) => s.of(w).map((x) => x.stream));
    expect(new Set(all).size).toBe(6);
    expect(s.of(1).map((x) => x.version)).toEqual([-1, -1]);
    expect(all.every((x) => x.startsWith('account-'))).toBe(true);
  });

  it('counts the versions of what a writer wrote', () => {
    const s = new WriterStreams('account', 'p1', 2, 1);
    s.written(0);
    s.written(0);
    expect(s.of(0)[0]?.version).toBe(1);
    expect(s.of(1)[0]?.version).toBe(-1);
  });

  it('moves a writer to new empty streams after a failed call', () => {
    const s = new WriterStreams('account', 'p1', 1, 1);
    s.written(0);
    const before = s.of(0)[0]?.stream;
    s.failed(0);
    expect(s.of(0)[0]?.stream).not.toBe(before);
    expect(s.of(0)[0]?.version).toBe(-1);
  });
});
