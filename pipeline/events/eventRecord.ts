import type { IHeaders } from 'kafkajs';

/**
 * What one event looks like in Kafka. The value is the event's data, Avro in the Confluent wire format (magic byte,
 * schema id, body); everything a reader needs without decoding is in headers, so the history checker, recovery and
 * projectors can route and verify events without the registry. The record is also a CloudEvent in Kafka binary mode
 * (CloudEvents 1.0 Kafka protocol binding): a consumer that knows nothing of kes reads id, type, source, subject and
 * time from the ce_* headers.
 *
 *   key      the stream name
 *   headers  ce_specversion (1.0), ce_id (the event id), ce_source (/kes/<category>), ce_type, ce_subject (the stream),
 *            ce_time (RFC 3339 UTC with milliseconds), kes-version, kes-hash (content hash of type + data + metadata,
 *            to tell a retry from a reused id), kes-metadata (JSON, only when given), traceparent (W3C, only when
 *            the append request carried one)
 *   timestamp the append time (same instant as ce_time)
 *
 * Each header costs every reader about 1.5 µs a record (../shared/DESIGN-NOTES.md), so the CloudEvents attributes
 * replace the kes headers that said the same thing (kes-event-id, kes-type, kes-time, kes-stream) instead of sitting
 * beside them. Records an older kes wrote carry those names: readers fall back to them (legacyHeaderName).
 */
export interface EventRecordHeaders {
  stream: string;
  version: number;
  eventId: string;
  type: string;
  timeMs: number;
  contentHash: string;
  metadata?: Record<string, unknown>;
  /** W3C trace context of the request that appended the event (validated by parseTraceparent). */
  traceparent?: string;
}

export const HEADER = {
  stream: 'ce_subject',
  version: 'kes-version',
  eventId: 'ce_id',
  type: 'ce_type',
  time: 'ce_time',
  hash: 'kes-hash',
  metadata: 'kes-metadata',
  source: 'ce_source',
  specVersion: 'ce_specversion',
  traceparent: 'traceparent',
} as const;

export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/**
 * The names an older kes (before CloudEvents) wrote for the headers that have a CloudEvents name now. Readers look a
 * legacy name up only when the current one is absent, so records written today cost nothing more to read.
 */
const LEGACY: Readonly<Record<string, string>> = {
  [HEADER.stream]: 'kes-stream',
  [HEADER.eventId]: 'kes-event-id',
  [HEADER.type]: 'kes-type',
  [HEADER.time]: 'kes-time',
};

/** The name an older kes wrote for header `name`, or undefined when the name did not change. */
export function legacyHeaderName(name: string): string | undefined {
  return LEGACY[name];
}

/**
 * The CloudEvents source of a category's events: a URI reference naming the producer context. One per category (the
 * category is what a topic holds and what a service owns), not per topic: the topic prefix is deployment detail.
 * Categories are [a-z0-9_], already URI-safe.
 */
export function eventSource(category: string): string {
  return `/kes/${category}`;
}

/** The category part of a stream name (everything before the first '-'); the whole name when it has none. */
function categoryOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
}

// A group commit writes one time for all its events: format it once.
let lastTimeMs = Number.NaN;
let lastTimeText = '';
/** An event time as CloudEvents wants it: RFC 3339, UTC, millisecond precision (2026-12-03T10:42:00.123Z). */
export function formatEventTime(timeMs: number): string {
  if (timeMs !== lastTimeMs) {
    lastTimeText = new Date(timeMs).toISOString();
    lastTimeMs = timeMs;
  }
  return lastTimeText;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const ZERO = 48;
const digits = (s: string, at: number, n: number): number => {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
};

/**
 * An event time header back to ms since the epoch: the form kes writes (24 characters, ending in Z) by reading its
 * digits in place, any other RFC 3339 time through Date.parse, and an older kes's kes-time (epoch ms digits) as a
 * number. NaN when it is none of these.
 */
export function parseEventTime(text: string): number {
  if (text.length === 24 && text.charCodeAt(23) === 90 /* Z */ && text.charCodeAt(10) === 84 /* T */) {
    const ms = Date.UTC(
      digits(text, 0, 4),
      digits(text, 5, 2) - 1,
      digits(text, 8, 2),
      digits(text, 11, 2),
      digits(text, 14, 2),
      digits(text, 17, 2),
      digits(text, 20, 3),
    );
    if (!Number.isNaN(ms)) return ms;
  }
  if (/^\d{1,16}$/.test(text)) return Number(text);
  return RFC3339.test(text) ? Date.parse(text) : Number.NaN;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
/**
 * A W3C traceparent (version 00: 00-<trace id, 32 hex>-<parent id, 16 hex>-<flags, 2 hex>, lowercase) or an error
 * saying what is wrong with it. All-zero trace or parent ids are invalid (W3C Trace Context, section 3.2.2).
 */
export function parseTraceparent(value: string): { traceparent: string } | { error: string } {
  const m = TRACEPARENT.exec(value);
  if (!m) return { error: 'expected 00-<32 lowercase hex>-<16 lowercase hex>-<2 lowercase hex> (W3C trace context)' };
  if (/^0+$/.test(m[1] as string)) return { error: 'the trace id is all zeros' };
  if (/^0+$/.test(m[2] as string)) return { error: 'the parent id is all zeros' };
  return { traceparent: value };
}

export function encodeHeaders(h: EventRecordHeaders): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADER.specVersion]: CLOUDEVENTS_SPEC_VERSION,
    [HEADER.eventId]: h.eventId,
    [HEADER.source]: eventSource(categoryOf(h.stream)),
    [HEADER.type]: h.type,
    [HEADER.stream]: h.stream,
    [HEADER.time]: formatEventTime(h.timeMs),
    [HEADER.version]: String(h.version),
    [HEADER.hash]: h.contentHash,
  };
  if (h.metadata !== undefined) headers[HEADER.metadata] = JSON.stringify(h.metadata);
  if (h.traceparent !== undefined) headers[HEADER.traceparent] = h.traceparent;
  return headers;
}

function text(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : one.toString();
}

/** The header `name`, or its legacy name's when a record written by an older kes has that instead. */
function renamed(headers: IHeaders | undefined, name: string): string | undefined {
  return text(headers, name) ?? text(headers, LEGACY[name] as string);
}

/** Reads the kes headers of a record; undefined when it is not a kes event (missing or malformed headers). */
export function decodeHeaders(headers: IHeaders | undefined): EventRecordHeaders | undefined {
  const stream = renamed(headers, HEADER.stream);
  const version = text(headers, HEADER.version);
  const eventId = renamed(headers, HEADER.eventId);
  const type = renamed(headers, HEADER.type);
  const time = renamed(headers, HEADER.time);
  const hash = text(headers, HEADER.hash);
  if (!stream || !version || !eventId || !type || !time || !hash) return undefined;
  const v = Number(version);
  const t = parseEventTime(time);
  if (!Number.isSafeInteger(v) || v < 0 || !Number.isFinite(t)) return undefined;
  const meta = text(headers, HEADER.metadata);
  const result: EventRecordHeaders = { stream, version: v, eventId, type, timeMs: t, contentHash: hash };
  if (meta !== undefined) result.metadata = JSON.parse(meta) as Record<string, unknown>;
  const traceparent = text(headers, HEADER.traceparent);
  if (traceparent !== undefined) result.traceparent = traceparent;
  return result;
}
