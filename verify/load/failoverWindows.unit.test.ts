import { describe, expect, it } from 'vitest';
import type { AppendAttempt, AttemptOutcome } from '../history/history.js';
import { failoverWindows } from './failoverWindows.js';

function attempt(endMs: number, outcome: AttemptOutcome): AppendAttempt {
  return {
    op: 'append',
    client: 'c',
    stream: 'account-1',
    expectedVersion: 'any',
    eventIds: ['e'],
    attempt: 1,
    startMs: endMs - 5,
    endMs,
    outcome,
  };
}
const ok = (t: number) =>
  attempt(t, { status: 'ok', firstVersion: 0, lastVersion: 0, topic: 't', partition: 0, offset: 0 });
const notReady = (t: number) => attempt(t, { status: 'rejected', httpStatus: 503, code: 'not_ready' });

describe('failoverWindows', () => {
  it('measures each fault up to the next: seconds of 503s and the longest gap without a success', () => {
    const history = [
      ok(900),
      notReady(950), // before the first fault: not counted
      ok(1_100),
      notReady(1_500),
      notReady(3_200),
      ok(3_400),
      ok(5_000),
      notReady(6_100),
      ok(6_600),
      ok(7_900),
    ];
    expect(failoverWindows(history, [6_000, 1_000], 8_000)).toEqual([
      { faultMs: 1_000, notReadyMs: 2_200, notReadyAnswers: 2, longestGapMs: 2_300 },
      { faultMs: 6_000, notReadyMs: 100, notReadyAnswers: 1, longestGapMs: 1_300 },
    ]);
  });

  it('a fault with no 503 after it has none to show', () => {
    expect(failoverWindows([ok(10), ok(20)], [15], 30)).toEqual([
      { faultMs: 15, notReadyMs: 0, notReadyAnswers: 0, longestGapMs: 10 },
    ]);
  });
});
