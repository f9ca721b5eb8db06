import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../pipeline/errors.js';
import { ATTEMPT_DEADLINE_MARGIN_MS, attemptDeadline, parseAttemptDeadline } from './attemptDeadline.js';

describe('attempt deadline', () => {
  it("is the guard's own limit without a client deadline", () => {
    expect(attemptDeadline(1_000, 10_000)).toBe(11_000);
  });

  it("is the client's deadline less the margin when the client gives up first, never later than the guard's", () => {
    expect(attemptDeadline(1_000, 10_000, 9_000)).toBe(9_000 - ATTEMPT_DEADLINE_MARGIN_MS);
    expect(attemptDeadline(1_000, 10_000, 60_000)).toBe(11_000);
    // already past: the append is answered "nothing written" without being reserved
    expect(attemptDeadline(1_000, 10_000, 1_100)).toBeLessThanOrEqual(1_000);
  });

  it('parses the header, and refuses anything but epoch milliseconds naming the header', () => {
    expect(parseAttemptDeadline(undefined)).toBeUndefined();
    expect(parseAttemptDeadline('1764748800000')).toBe(1_764_748_800_000);
    expect(parseAttemptDeadline(['1764748800000', '1'])).toBe(1_764_748_800_000);
    for (const bad of ['', 'soon', '-5', '1.5', '1e12']) {
      const error = (() => {
        try {
          parseAttemptDeadline(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).path).toBe('kes-attempt-deadline');
    }
  });
});
