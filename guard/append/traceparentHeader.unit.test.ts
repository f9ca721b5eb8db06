import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../pipeline/errors.js';
import { parseTraceparentHeader } from './traceparentHeader.js';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceparentHeader', () => {
  it('is undefined without the header and the value with a valid one', () => {
    expect(parseTraceparentHeader(undefined)).toBeUndefined();
    expect(parseTraceparentHeader(TRACE)).toBe(TRACE);
    expect(parseTraceparentHeader([TRACE])).toBe(TRACE);
  });

  it('refuses a malformed one with a 400 that names the header', () => {
    try {
      parseTraceparentHeader('00-abc-def-01');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).path).toBe('traceparent');
      expect((error as InvalidRequestError).message).toContain('00-abc-def-01');
    }
  });
});
