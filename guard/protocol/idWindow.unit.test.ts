import { describe, expect, it } from 'vitest';
import { idCheck, idField, windowShape } from './idWindow.js';

describe('idempotency window encoding', () => {
  it('a uuid is its 16 raw bytes; any other id 16 bytes of its SHA-1', () => {
    expect(idField('0190a6b2-7c1e-7d2a-9f00-0123456789ab').toString('hex')).toBe('0190a6b27c1e7d2a9f000123456789ab');
    expect(idField('order-7:cmd-1')).toHaveLength(16);
    expect(idField('order-7:cmd-1').equals(idField('order-7:cmd-2'))).toBe(false);
    // Upper case is not the canonical form: hashed, so it never meets the lowercase id's bytes by construction.
    expect(idField('0190A6B2-7C1E-7D2A-9F00-0123456789AB').toString('hex')).not.toBe(
      '0190a6b27c1e7d2a9f000123456789ab',
    );
  });

  it('the check tells stream and content apart', () => {
    expect(idCheck('order-1', 'h')).toHaveLength(4);
    expect(idCheck('order-1', 'h').equals(idCheck('order-1', 'h'))).toBe(true);
    expect(idCheck('order-1', 'h').equals(idCheck('order-2', 'h'))).toBe(false);
    expect(idCheck('order-1', 'h').equals(idCheck('order-1', 'i'))).toBe(false);
    expect(idCheck('order-1', 'xh').equals(idCheck('order-1x', 'h'))).toBe(false);
  });

  it('the ring is cut into four generations of buckets of about 96 entries', () => {
    expect(windowShape(86_400_000, 1_000_000)).toEqual({
      windowMs: 86_400_000,
      maxEvents: 1_000_000,
      generationEvents: 250_000,
      buckets: 2605,
      spanMs: 21_600_000,
    });
    expect(windowShape(1000, 8)).toMatchObject({ generationEvents: 2, buckets: 1, spanMs: 250 });
    expect(() => windowShape(1000, 3)).toThrow(RangeError);
  });
});
