import type { IHeaders } from 'kafkajs';

/**
 * What one event looks like in Kafka. The value is the event's data, Avro in the Confluent wire format (magic byte,
 * schema id, body); everything a reader needs without decoding is in headers, so the history checker, recovery and
 * projectors can route and verify events without the registry.
 *
 *   key      the stream name
 *   headers  kes-stream, kes-version, kes-event-id, kes-type, kes-time (ms since epoch), kes-hash (content hash of
 *            type + data + metadata, to tell a retry from a reused id), kes-metadata (JSON, only when given)
 *   timestamp the append time (same as kes-time)
 */
export interface EventRecordHeaders {
  stream: string;
  version: number;
  eventId: string;
  type: string;
  timeMs: number;
  contentHash: string;
  metadata?: Record<string, unknown>;
}

export const HEADER = {
  stream: 'kes-stream',
  version: 'kes-version',
  eventId: 'kes-event-id',
  type: 'kes-type',
  time: 'kes-time',
  hash: 'kes-hash',
  metadata: 'kes-metadata',
} as const;

export function encodeHeaders(h: EventRecordHeaders): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADER.stream]: h.stream,
    [HEADER.version]: String(h.version),
    [HEADER.eventId]: h.eventId,
    [HEADER.type]: h.type,
    [HEADER.time]: String(h.timeMs),
    [HEADER.hash]: h.contentHash,
  };
  if (h.metadata !== undefined) headers[HEADER.metadata] = JSON.stringify(h.metadata);
  return headers;
}

function text(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : one.toString();
}

/** Reads the kes headers of a record; undefined when it is not a kes event (missing or malformed headers). */
export function decodeHeaders(headers: IHeaders | undefined): EventRecordHeaders | undefined {
  const stream = text(headers, HEADER.stream);
  const version = text(headers, HEADER.version);
  const eventId = text(headers, HEADER.eventId);
  const type = text(headers, HEADER.type);
  const time = text(headers, HEADER.time);
  const hash = text(headers, HEADER.hash);
  if (!stream || !version || !eventId || !type || !time || !hash) return undefined;
  const v = Number(version);
  const t = Number(time);
  if (!Number.isSafeInteger(v) || v < 0 || !Number.isFinite(t)) return undefined;
  const meta = text(headers, HEADER.metadata);
  const result: EventRecordHeaders = { stream, version: v, eventId, type, timeMs: t, contentHash: hash };
  if (meta !== undefined) result.metadata = JSON.parse(meta) as Record<string, unknown>;
  return result;
}
