import { InvalidRequestError } from '../../pipeline/errors.js';

/**
 * A client may send when it gives up on an attempt (`kes-attempt-deadline`, epoch milliseconds). The guard never
 * reserves the append after that, less this margin, so an attempt its client abandoned cannot be written after the
 * client's retry was answered: the retry either finds the first attempt's ids (in flight: it waits; written: it is
 * answered from them) or the first attempt is answered "nothing written" without ever being reserved.
 *
 * The margin covers the reserve's Redis round trip after the last deadline check, and a difference between the
 * client's clock and the guard's of up to about this much (hosts kept in sync by NTP are within milliseconds).
 */
export const ATTEMPT_DEADLINE_HEADER = 'kes-attempt-deadline';
export const ATTEMPT_DEADLINE_MARGIN_MS = 250;

/** The header's value: undefined when absent; a bad value is a 400 naming the header. */
export function parseAttemptDeadline(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,16}$/.test(text.trim())) {
    throw new InvalidRequestError(
      'invalid_header',
      ATTEMPT_DEADLINE_HEADER,
      `expected epoch milliseconds (an integer), got ${JSON.stringify(value)}`,
    );
  }
  return Number(text.trim());
}

/** The last moment the guard may reserve an append: its own limit, or earlier if its client gives up sooner. */
export function attemptDeadline(nowMs: number, guardTimeoutMs: number, clientDeadlineMs?: number): number {
  const own = nowMs + guardTimeoutMs;
  return clientDeadlineMs === undefined ? own : Math.min(own, clientDeadlineMs - ATTEMPT_DEADLINE_MARGIN_MS);
}
