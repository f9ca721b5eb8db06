import { describe, expect, it } from 'vitest';
import { NotReadyError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import { GuardPool } from './guardPool.js';
import { retryLoop, type Verdict } from './retryLoop.js';

describe('the clients retry loop', () => {
  const noPause = async () => {};
  const pool = () => new GuardPool(['http://a', 'http://b'], { now: () => 0 });

  it('moves to the next guard after a guard-down answer, stays after outcome unknown, stops at done', async () => {
    const urls: string[] = [];
    const answers: Verdict<string>[] = [
      { kind: 'retry', error: new NotReadyError('starting'), guardDown: true },
      { kind: 'retry', error: new NotReadyError('unknown'), guardDown: false },
      { kind: 'done', value: 'written' },
    ];
    const value = await retryLoop(
      { pool: pool(), home: 0, maxAttempts: 5, pause: noPause },
      async (url) => {
        urls.push(url);
        return answers.shift() as Verdict<string>;
      },
      () => new NotReadyError('none'),
    );
    expect(value).toBe('written');
    expect(urls).toEqual(['http://a', 'http://b', 'http://b']);
  });

  it('a definite answer is final; the last retriable error is thrown when attempts run out', async () => {
    const conflict = new WrongExpectedVersionError('a-1', 0, 3);
    let calls = 0;
    await expect(
      retryLoop(
        { pool: pool(), home: 0, maxAttempts: 5, pause: noPause },
        async () => {
          calls++;
          return { kind: 'fail', error: conflict };
        },
        () => new NotReadyError('none'),
      ),
    ).rejects.toBe(conflict);
    expect(calls).toBe(1);
    const last = new NotReadyError('still starting');
    await expect(
      retryLoop(
        { pool: pool(), home: 0, maxAttempts: 3, pause: noPause },
        async (_url, attempt) => ({
          kind: 'retry',
          error: attempt === 3 ? last : new NotReadyError('x'),
          guardDown: true,
        }),
        () => new NotReadyError('none'),
      ),
    ).rejects.toBe(last);
  });

  it('an aborted signal stops further attempts (the first is always made)', async () => {
    const stop = new AbortController();
    stop.abort();
    let calls = 0;
    await expect(
      retryLoop(
        { pool: pool(), home: 0, maxAttempts: 5, pause: noPause, signal: stop.signal },
        async () => {
          calls++;
          return { kind: 'retry', error: new NotReadyError('x'), guardDown: true };
        },
        () => new NotReadyError('none'),
      ),
    ).rejects.toBeInstanceOf(NotReadyError);
    expect(calls).toBe(1);
  });
});
