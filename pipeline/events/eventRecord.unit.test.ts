import { describe, expect, it } from 'vitest';
import {
  decodeHeaders,
  encodeHeaders,
  formatEventTime,
  legacyHeaderName,
  parseEventTime,
  parseTraceparent,
} from './eventRecord.js';

const EVENT = {
  stream: 'account-1',
  version: 7,
  eventId: 'e1',
  type: 'MoneyDeposited',
  timeMs: Date.UTC(2026, 11, 3, 10, 42, 0, 123),
  contentHash: 'h',
};
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('encodeHeaders', () => {
  it('writes a CloudEvent in Kafka binary mode, and kes-version, kes-hash: nothing else without metadata or trace', () => {
    expect(encodeHeaders(EVENT)).toEqual({
      ce_specversion: '1.0',
      ce_id: 'e1',
      ce_source: '/kes/account',
      ce_type: 'MoneyDeposited',
      ce_subject: 'account-1',
      ce_time: '2026-12-03T10:42:00.123Z',
      'kes-version': '7',
      'kes-hash': 'h',
    });
  });

  it('adds kes-metadata and traceparent only when given', () => {
    const h = encodeHeaders({ ...EVENT, metadata: { by: 'x' }, traceparent: TRACE });
    expect(h['kes-metadata']).toBe('{"by":"x"}');
    expect(h.traceparent).toBe(TRACE);
    expect(Object.keys(h)).toHaveLength(10);
  });

  it('round-trips through decodeHeaders', () => {
    const full = { ...EVENT, metadata: { by: 'x' }, traceparent: TRACE };
    expect(decodeHeaders(encodeHeaders(full))).toEqual(full);
    expect(decodeHeaders(encodeHeaders(EVENT))).toEqual(EVENT);
  });
});

describe('decodeHeaders', () => {
  it('reads a record an older kes wrote (kes-stream, kes-event-id, kes-type, kes-time in epoch ms)', () => {
    const legacy = {
      'kes-stream': 'account-1',
      'kes-version': '7',
      'kes-event-id': 'e1',
      'kes-type': 'MoneyDeposited',
      'kes-time': String(EVENT.timeMs),
      'kes-hash': 'h',
    };
    expect(decodeHeaders(legacy)).toEqual(EVENT);
  });

  it('is undefined when a header is missing or the time is no time', () => {
    const { ce_id: _, ...noId } = encodeHeaders(EVENT);
    expect(decodeHeaders(noId)).toBeUndefined();
    expect(decodeHeaders({ ...encodeHeaders(EVENT), ce_time: 'soon' })).toBeUndefined();
    expect(decodeHeaders(undefined)).toBeUndefined();
  });
});

describe('legacyHeaderName', () => {
  it('names the header an older kes wrote for each renamed one, and nothing for the ones that kept their name', () => {
    expect(legacyHeaderName('ce_subject')).toBe('kes-stream');
    expect(legacyHeaderName('ce_id')).toBe('kes-event-id');
    expect(legacyHeaderName('ce_type')).toBe('kes-type');
    expect(legacyHeaderName('ce_time')).toBe('kes-time');
    expect(legacyHeaderName('kes-version')).toBeUndefined();
    expect(legacyHeaderName('kes-hash')).toBeUndefined();
    expect(legacyHeaderName('ce_source')).toBeUndefined();
  });
});

describe('event time', () => {
  it('is written RFC 3339 with milliseconds and read back exactly', () => {
    for (const ms of [0, EVENT.timeMs, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2099, 1, 28, 0, 0, 0, 1)]) {
      const text = formatEventTime(ms);
      expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(parseEventTime(text)).toBe(ms);
    }
  });

  it('reads other RFC 3339 forms (offsets, no or more fraction digits) and an older kes-time (epoch ms)', () => {
    expect(parseEventTime('2026-12-03T11:42:00.123+01:00')).toBe(EVENT.timeMs);
    expect(parseEventTime('2026-12-03T10:42:00Z')).toBe(EVENT.timeMs - 123);
    expect(parseEventTime('2026-12-03T10:42:00.123456Z')).toBe(EVENT.timeMs);
    expect(parseEventTime(String(EVENT.timeMs))).toBe(EVENT.timeMs);
  });

  it('is NaN for what is not a time', () => {
    for (const bad of ['soon', '', '2026-12-03', 'Thu, 03 Dec 2026 10:42:00 GMT', '2026-12-03T10:4x:00.123Z', '-5']) {
      expect(parseEventTime(bad)).toBeNaN();
    }
  });
});

describe('parseTraceparent', () => {
  it('accepts a W3C version-00 traceparent', () => {
    expect(parseTraceparent(TRACE)).toEqual({ traceparent: TRACE });
  });

  it('refuses other shapes, upper case and all-zero ids, saying what is wrong', () => {
    for (const bad of [
      '',
      'garbage',
      TRACE.toUpperCase(),
      `${TRACE}-extra`,
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad)).toHaveProperty('error');
    }
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toEqual({
      error: 'the trace id is all zeros',
    });
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')).toEqual({
      error: 'the parent id is all zeros',
    });
  });
});
