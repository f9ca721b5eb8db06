import { describe, expect, it } from 'vitest';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import { appliedEventOf } from './readBackRecord.js';

const headers = encodeHeaders({
  stream: 'account-7',
  version: 12,
  eventId: 'e-1',
  type: 'MoneyDeposited',
  timeMs: 1_700_000_000_000,
  contentHash: 'abc',
});

describe('appliedEventOf', () => {
  it('gives the stream version, the id with its offset and hash, and the event time (not the time read)', () => {
    expect(appliedEventOf({ headers, offset: '345' })).toEqual({
      id: 'e-1',
      stream: 'account-7',
      version: 12,
      offset: 345,
      hash: 'abc',
      timeMs: 1_700_000_000_000,
    });
  });

  it('reads header values as Kafka hands them over (buffers)', () => {
    const buffers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
    expect(appliedEventOf({ headers: buffers, offset: '0' })?.version).toBe(12);
  });

  it('a record without kes headers, or with a malformed version, tells nothing', () => {
    expect(appliedEventOf({ headers: {}, offset: '1' })).toBeUndefined();
    expect(appliedEventOf({ offset: '1' })).toBeUndefined();
    expect(appliedEventOf({ headers: { ...headers, 'kes-version': '-1' }, offset: '1' })).toBeUndefined();
    const { 'kes-hash': _, ...noHash } = headers;
    expect(appliedEventOf({ headers: noHash, offset: '1' })).toBeUndefined();
  });
});
