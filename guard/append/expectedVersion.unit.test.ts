import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../pipeline/errors.js';
import { type Expected, matchesExpectedVersion, NO_STREAM_VERSION, parseExpected } from './expectedVersion.js';

const actual = fc.integer({ min: NO_STREAM_VERSION, max: Number.MAX_SAFE_INTEGER });
const version = fc.integer({ min: NO_STREAM_VERSION, max: Number.MAX_SAFE_INTEGER });

describe('matchesExpectedVersion', () => {
  it.each([
    // [expected, actual (-1: no stream), accepted]
    ['any', -1, true],
    ['any', 7, true],
    ['no_stream', -1, true],
    ['no_stream', 0, false],
    ['stream_exists', -1, false],
    ['stream_exists', 0, true],
    [-1, -1, true],
    [-1, 0, false],
    [4, 4, true],
    [3, 4, false],
    [5, 4, false],
    [0, -1, false],
  ] as const)('expected %j on a stream at %j: %j', (expected, at, accepted) => {
    expect(matchesExpectedVersion(expected, at)).toBe(accepted);
  });

  it('a version accepts exactly the stream at that version', () => {
    fc.assert(
      fc.property(version, actual, (expected, at) => {
        expect(matchesExpectedVersion(expected, at)).toBe(expected === at);
      }),
    );
  });

  it('no_stream is version -1, stream_exists is its complement, any accepts every stream', () => {
    fc.assert(
      fc.property(actual, (at) => {
        expect(matchesExpectedVersion('no_stream', at)).toBe(matchesExpectedVersion(NO_STREAM_VERSION, at));
        expect(matchesExpectedVersion('stream_exists', at)).toBe(!matchesExpectedVersion('no_stream', at));
        expect(matchesExpectedVersion('any', at)).toBe(true);
      }),
    );
  });

  it('of two appends expecting the same version, only one can be written (the compare-and-swap)', () => {
    // After the first is written the stream has moved past `expected`: the second no longer matches.
    fc.assert(
      fc.property(version, fc.integer({ min: 1, max: 100 }), (expected, events) => {
        expect(matchesExpectedVersion(expected, expected)).toBe(true);
        expect(matchesExpectedVersion(expected, expected + events)).toBe(false);
      }),
    );
  });
});

describe('parseExpected', () => {
  it('takes the three conditions and any version from -1', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom<Expected>('any', 'no_stream', 'stream_exists'), version), (expected) => {
        expect(parseExpected(expected)).toBe(expected);
      }),
    );
  });

  it.each([-2, 1.5, '3', null, 'ANY', Number.MAX_SAFE_INTEGER + 1, {}])('refuses %j', (value) => {
    expect(() => parseExpected(value)).toThrow(InvalidRequestError);
    expect(() => parseExpected(value)).toThrow(
      expect.objectContaining({ error: 'invalid_expected_version', path: 'expectedVersion' }),
    );
  });

  it('names the path it was given', () => {
    expect(() => parseExpected('x', 'appends[3].expectedVersion')).toThrow(
      expect.objectContaining({ error: 'invalid_expected_version', path: 'appends[3].expectedVersion' }),
    );
    expect(() => parseExpected(undefined, 'appends[3].expectedVersion')).toThrow(
      expect.objectContaining({ error: 'missing_field', path: 'appends[3].expectedVersion' }),
    );
  });
});
