import { InvalidRequestError } from '../../pipeline/errors.js';

/**
 * What an append expects of its stream before it is written: a version (the stream's last committed event; -1: no
 * events yet), or one of three conditions on it.
 */
export type Expected = number | 'any' | 'no_stream' | 'stream_exists';

/** The committed version of a stream that has no events. */
export const NO_STREAM_VERSION = -1;

/**
 * Whether an append expecting `expected` may be written on a stream whose committed version is `actual`.
 *
 * The Redis reserve script (guard/protocol/scripts.lua.ts, step 3, the compare-and-swap) implements the same rule in
 * Lua, where the decision is made atomically with the reservation; expectedVersion.unit.test.ts pins this side, the
 * script's integration tests that one.
 */
export function matchesExpectedVersion(expected: Expected, actual: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === NO_STREAM_VERSION;
  if (expected === 'stream_exists') return actual > NO_STREAM_VERSION;
  return actual === expected;
}

/** `expectedVersion` of a request; `path` names the field in the error. */
export function parseExpected(value: unknown, path = 'expectedVersion'): Expected {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= NO_STREAM_VERSION) return value;
  if (value === undefined) {
    throw new InvalidRequestError(
      'missing_field',
      path,
      'required: "any", "no_stream", "stream_exists" or a version >= -1',
    );
  }
  throw new InvalidRequestError(
    'invalid_expected_version',
    path,
    `expected "any", "no_stream", "stream_exists" or an integer >= -1, got ${JSON.stringify(value)}`,
  );
}
