import { describe, expect, it } from 'vitest';
import { ReadWriteLock } from './readWriteLock.js';

function gate(): { open: () => void; wait: Promise<void> } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, wait };
}

describe('ReadWriteLock', () => {
  it('lets shared holders run together, an exclusive one alone, and later shared ones wait behind it', async () => {
    const lock = new ReadWriteLock();
    const events: string[] = [];
    const first = gate();
    const second = gate();
    const r1 = lock.shared(async () => {
      events.push('r1 in');
      await first.wait;
      events.push('r1 out');
    });
    const r2 = lock.shared(async () => {
      events.push('r2 in');
      await second.wait;
      events.push('r2 out');
    });
    const w = lock.exclusive(async () => {
      events.push('w in');
      events.push('w out');
    });
    const r3 = lock.shared(async () => {
      events.push('r3 in');
    });
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['r1 in', 'r2 in']);
    first.open();
    await r1;
    expect(events).toEqual(['r1 in', 'r2 in', 'r1 out']);
    second.open();
    await Promise.all([r2, w, r3]);
    expect(events).toEqual(['r1 in', 'r2 in', 'r1 out', 'r2 out', 'w in', 'w out', 'r3 in']);
  });

  it('releases the lock when the holder throws', async () => {
    const lock = new ReadWriteLock();
    await expect(
      lock.exclusive(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(lock.shared(async () => 'free')).resolves.toBe('free');
  });
});
