import { InvalidRequestError, TooLargeError } from '../../pipeline/errors.js';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { parseStreamName, type StreamName } from '../../pipeline/events/streamName.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import type { Expected } from '../protocol/redisState.js';
import type { PreparedEvent } from './types.js';

/**
 * Checks an append request completely before anything is reserved, and says exactly what is wrong and where:
 * the error's path names the field (`expectedVersion`, `events[2].data.amount`).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppendRequest {
  stream: StreamName;
  expected: Expected;
  events: PreparedEvent[];
}

export function parseStream(stream: string): StreamName {
  const parsed = parseStreamName(stream);
  if ('error' in parsed) throw new InvalidRequestError('invalid_stream_name', 'stream', parsed.error);
  return parsed;
}

export function parseExpected(value: unknown, path = 'expectedVersion'): Expected {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= -1) return value;
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseAppendRequest(
  streamParam: string,
  body: unknown,
  catalog: EventCatalog,
  maxEventBytes: number,
): AppendRequest {
  const stream = parseStream(streamParam);
  if (!isObject(body)) throw new InvalidRequestError('invalid_body', 'body', 'expected a JSON object');
  for (const key of Object.keys(body)) {
    if (key !== 'expectedVersion' && key !== 'events') {
      throw new InvalidRequestError('unknown_field', key, 'unknown field (expected expectedVersion, events)');
    }
  }
  const expected = parseExpected(body.expectedVersion);
  if (!Array.isArray(body.events))
    throw new InvalidRequestError('invalid_events', 'events', 'expected an array of events');
  if (body.events.length === 0)
    throw new InvalidRequestError('invalid_events', 'events', 'at least one event is required');
  const seen = new Set<string>();
  const events = body.events.map((raw: unknown, i: number): PreparedEvent => {
    const at = `events[${i}]`;
    if (!isObject(raw)) throw new InvalidRequestError('invalid_event', at, 'expected an object');
    for (const key of Object.keys(raw)) {
      if (key !== 'id' && key !== 'type' && key !== 'data' && key !== 'metadata') {
        throw new InvalidRequestError(
          'unknown_field',
          `${at}.${key}`,
          'unknown field (expected id, type, data, metadata)',
        );
      }
    }
    const { id, type, data, metadata } = raw;
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw new InvalidRequestError('invalid_event_id', `${at}.id`, 'expected a UUID');
    }
    const eventId = id.toLowerCase();
    if (seen.has(eventId))
      throw new InvalidRequestError('duplicate_event_id', `${at}.id`, 'the same id twice in one append');
    seen.add(eventId);
    if (typeof type !== 'string' || type.length === 0) {
      throw new InvalidRequestError('invalid_event_type', `${at}.type`, 'expected the event type name');
    }
    if (!catalog.has(type)) {
      const known = catalog.types();
      throw new InvalidRequestError(
        'unknown_event_type',
        `${at}.type`,
        `unknown event type '${type}' (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`,
      );
    }
    if (data === undefined) throw new InvalidRequestError('missing_field', `${at}.data`, 'required');
    if (metadata !== undefined && !isObject(metadata)) {
      throw new InvalidRequestError('invalid_metadata', `${at}.metadata`, 'expected an object');
    }
    const size = Buffer.byteLength(JSON.stringify(data)) + (metadata ? Buffer.byteLength(JSON.stringify(metadata)) : 0);
    if (size > maxEventBytes) throw new TooLargeError(at, size, maxEventBytes);
    const problem = catalog.validate(type, data);
    if (problem) {
      throw new InvalidRequestError(
        'schema_mismatch',
        problem.path ? `${at}.data${problem.path.startsWith('[') ? '' : '.'}${problem.path}` : `${at}.data`,
        `does not match ${type}: ${problem.message}`,
      );
    }
    const event: PreparedEvent = {
      id: eventId,
      type,
      hash: contentHash(type, data, metadata),
      value: catalog.encode(type, data),
    };
    if (metadata !== undefined) event.metadata = metadata;
    return event;
  });
  return { stream, expected, events };
}
