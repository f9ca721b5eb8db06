import { InvalidRequestError } from '../../pipeline/errors.js';
import { parseStreamName, type StreamName } from '../../pipeline/events/streamName.js';
import { isObject } from '../../pipeline/isObject.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { type Expected, parseExpected } from './expectedVersion.js';
import type { PreparedEvent } from './preparedAppend.js';
import { prepareEvents } from './prepareEvents.js';

/**
 * Checks an append request completely before anything is reserved, and says exactly what is wrong and where:
 * the error's path names the field (`expectedVersion`, `events[2].data.amount`).
 */

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
  const events = prepareEvents(body.events, catalog, maxEventBytes);
  return { stream, expected, events };
}
