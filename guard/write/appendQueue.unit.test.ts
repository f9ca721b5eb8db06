import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PreparedEvent } from '../append/preparedAppend.js';
import { AppendQueue, type QueuedAppend, type QueuedUnit } from './appendQueue.js';

/** Fake timers: linger, retry delays, deadlines and the 100 ms sweep are driven by the test, not by sleeping. */
beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

let seq = 0;
function item(events: number, options: { ttlMs?: number; maybeWritten?: boolean } = {}): QueuedAppend {
  const n = ++seq;
  return {
    append: {
      stream: `order-${n}`,
      category: 'order',
      topic: 't',
      partition: 0,
      expected: 'any',
      events: Array.from(
        { length: events },
        (_, i): PreparedEvent => ({ id: `${n}-${i}`, type: 'T', hash: 'h', value: Buffer.alloc(0) }),
      ),
    },
    resolve: () => {},
    reject: () => {},
    deadline: Date.now() + (options.ttlMs ?? 10_000),
    attempts: 0,
    maybeWritten: options.maybeWritten ?? false,
    enqueuedAt: Date.now(),
  };
}

function queue(failFast?: () => boolean) {
  const expired: QueuedUnit[] = [];
  const q = new AppendQueue((i) => expired.push(i), failFast);
  return { q, expired };
}

/** Whether a promise has settled, without waiting for it. */
async function settled<T>(p: Promise<T>): Promise<boolean> {
  let done = false;
  void p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('AppendQueue.take', () => {
  it('groups appends up to maxEvents in arrival order, never splitting one', async () => {
    const { q } = queue();
    const [a, b, c, d] = [item(3), item(3), item(3), item(1)];
    for (const i of [a, b, c, d]) q.push(i);
    expect(await q.take(7, 0)).toEqual([a, b]);
    expect(await q.take(7, 0)).toEqual([c, d]);
    q.close();
  });

  it('takes an append larger than maxEvents alone', async () => {
    const { q } = queue();
    const [big, small] = [item(50), item(1)];
    q.push(big);
    q.push(small);
    expect(await q.take(10, 0)).toEqual([big]);
    expect(await q.take(10, 0)).toEqual([small]);
    q.close();
  });

  it('waits for the first append when the queue is empty', async () => {
    const { q } = queue();
    const taking = q.take(10, 0);
    expect(await settled(taking)).toBe(false);
    const a = item(1);
    q.push(a);
    expect(await taking).toEqual([a]);
    q.close();
  });

  it('takes at once when no other group is committing: a lone append waits for nothing', async () => {
    const { q } = queue();
    const a = item(2);
    q.push(a);
    expect(await settled(q.take(10, 1_000))).toBe(true);
    q.close();
  });

  it('lingers for more appends while another group commits and the group is not full, and not when it is', async () => {
    const { q } = queue();
    let finish = () => {};
    const other = q.committed(() => new Promise<void>((resolve) => (finish = resolve)));
    const a = item(2);
    q.push(a);
    const taking = q.take(10, 50);
    await vi.advanceTimersByTimeAsync(30);
    expect(await settled(taking)).toBe(false);
    const b = item(2);
    q.push(b);
    await vi.advanceTimersByTimeAsync(20);
    expect(await taking).toEqual([a, b]);

    const [c, d] = [item(5), item(5)];
    q.push(c);
    q.push(d);
    // already full: answered at once, without waiting out the linger
    expect(await settled(q.take(10, 1_000))).toBe(true);
    finish();
    await other;
    q.close();
  });

  it('answers expired appends through onExpired instead of returning them', async () => {
    const { q, expired } = queue();
    const [old, fresh] = [item(1, { ttlMs: 10 }), item(1, { ttlMs: 10_000 })];
    q.push(old);
    q.push(fresh);
    vi.setSystemTime(Date.now() + 20);
    expect(await q.take(10, 0)).toEqual([fresh]);
    expect(expired).toEqual([old]);
    q.close();
  });

  it('returns an empty group when every waiting append expired (callers must not read [] as closed)', async () => {
    const { q, expired } = queue();
    const a = item(1, { ttlMs: 10 });
    q.push(a);
    vi.setSystemTime(Date.now() + 20);
    expect(await q.take(10, 0)).toEqual([]);
    expect(expired).toEqual([a]);
    q.close();
  });

  it('counts the events left behind, so the next take lingers only when the rest is not full', async () => {
    const { q } = queue();
    const [a, b, c] = [item(4), item(4), item(4)];
    for (const i of [a, b, c]) q.push(i);
    expect(await q.take(4, 0)).toEqual([a]);
    // 8 events are left, at least maxEvents: no linger
    expect(await settled(q.take(4, 1_000))).toBe(true);
    q.close();
  });
});

describe('AppendQueue.retryLater', () => {
  it('puts the append back after the delay, counting the attempt and the size meanwhile', async () => {
    const { q } = queue();
    const a = item(1);
    q.retryLater(a, 200);
    expect(a.attempts).toBe(1);
    expect(q.size).toBe(1);
    const taking = q.take(10, 0);
    await vi.advanceTimersByTimeAsync(199);
    expect(await settled(taking)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await taking).toEqual([a]);
    expect(q.size).toBe(0);
    q.close();
  });

  it('answers at once through onExpired when the delay reaches the deadline', () => {
    const { q, expired } = queue();
    const a = item(1, { ttlMs: 100 });
    q.retryLater(a, 100);
    expect(expired).toEqual([a]);
    expect(q.size).toBe(0);
    q.close();
  });

  it('an append coming back after close() is answered through onExpired', async () => {
    const { q, expired } = queue();
    const a = item(1);
    q.retryLater(a, 50);
    q.close();
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(expired).toEqual([a]);
  });
});

describe('AppendQueue sweep (every 100 ms, when no writer takes)', () => {
  it('answers appends past their deadline', async () => {
    const { q, expired } = queue();
    const [a, b] = [item(1, { ttlMs: 150 }), item(1, { ttlMs: 10_000 })];
    q.push(a);
    q.push(b);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([a]);
    expect(q.size).toBe(1);
    // the count of waiting events follows: b alone (1 event) is below maxEvents 2, so take lingers (another
    // group is committing)
    let finish = () => {};
    const other = q.committed(() => new Promise<void>((resolve) => (finish = resolve)));
    const taking = q.take(2, 30);
    expect(await settled(taking)).toBe(false);
    await vi.advanceTimersByTimeAsync(30);
    expect(await taking).toEqual([b]);
    finish();
    await other;
    q.close();
  });

  it('with failFast, answers at once every waiting append that was never in a transaction', async () => {
    let failing = false;
    const { q, expired } = queue(() => failing);
    const [fresh, maybe] = [item(1), item(1, { maybeWritten: true, ttlMs: 350 })];
    q.push(fresh);
    q.push(maybe);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([]);
    failing = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([fresh]);
    // an append that may have been written is held until its deadline (it may still learn its outcome)
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([fresh]);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([fresh, maybe]);
    q.close();
  });
});

describe('AppendQueue.close', () => {
  it('answers everything waiting, wakes takers with [], and answers later pushes at once', async () => {
    const { q, expired } = queue();
    const [a, b] = [item(1), item(1)];
    q.push(a);
    q.push(b);
    q.close();
    expect(expired).toEqual([a, b]);
    expect(await q.take(10, 0)).toEqual([]);
    const c = item(1);
    q.push(c);
    expect(expired).toEqual([a, b, c]);
  });

  it('wakes a take() that was waiting on an empty queue', async () => {
    const { q } = queue();
    const taking = q.take(10, 0);
    expect(await settled(taking)).toBe(false);
    q.close();
    expect(await taking).toEqual([]);
  });

  it('stops the sweep', async () => {
    const failFast = vi.fn(() => false);
    const { q } = queue(failFast);
    q.push(item(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(failFast).toHaveBeenCalledTimes(1);
    q.close();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(failFast).toHaveBeenCalledTimes(1);
  });
});

describe('AppendQueue with several writers', () => {
  it('gives each append to exactly one taker; a taker that finds nothing left gets []', async () => {
    const { q } = queue();
    let finish = () => {};
    const other = q.committed(() => new Promise<void>((resolve) => (finish = resolve)));
    const first = q.take(10, 20);
    const second = q.take(10, 20);
    const a = item(1);
    q.push(a);
    await vi.advanceTimersByTimeAsync(20);
    const groups = [await first, await second];
    expect(groups.flat()).toEqual([a]);
    expect(groups.map((g) => g.length).sort()).toEqual([0, 1]);
    finish();
    await other;
    q.close();
  });
});
