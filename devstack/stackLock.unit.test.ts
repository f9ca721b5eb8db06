import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withStackLock } from './stackLock.js';

describe('withStackLock', () => {
  it('runs one holder at a time: the second waits until the first is done, and says so', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-lock-'));
    const events: string[] = [];
    const said: string[] = [];
    let release = () => {};
    const first = withStackLock(
      home,
      (l) => said.push(l),
      async () => {
        events.push('first in');
        await new Promise<void>((r) => {
          release = r;
        });
        events.push('first out');
      },
    );
    await new Promise((r) => setTimeout(r, 50));
    const second = withStackLock(
      home,
      (l) => said.push(l),
      async () => {
        events.push('second in');
      },
    );
    await new Promise((r) => setTimeout(r, 400));
    expect(events).toEqual(['first in']);
    expect(said).toEqual([`waiting for another kes command (pid ${process.pid}) working on this stack`]);
    release();
    await Promise.all([first, second]);
    expect(events).toEqual(['first in', 'first out', 'second in']);
    expect(existsSync(join(home, 'stack.lock'))).toBe(false);
  });

  it('takes over a lock whose owner is dead', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-lock-'));
    // Pids are below /proc/sys/kernel/pid_max (at most 2^22): this one belongs to nobody.
    writeFileSync(join(home, 'stack.lock'), '99999999\n');
    await expect(
      withStackLock(
        home,
        () => undefined,
        async () => 'ran',
      ),
    ).resolves.toBe('ran');
  });

  it('gives up after its timeout with a retriable error naming the holder', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-lock-'));
    writeFileSync(join(home, 'stack.lock'), `${process.pid}\n`);
    await expect(
      withStackLock(
        home,
        () => undefined,
        async () => 'ran',
        300,
      ),
    ).rejects.toMatchObject({
      retriable: true,
      message: expect.stringContaining(`pid ${process.pid}`),
    });
  });
});
