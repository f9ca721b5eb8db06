import { InvalidRequestError, TooLargeError } from '../../pipeline/errors.js';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { isObject } from '../../pipeline/isObject.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import type { PreparedEvent } from './preparedAppend.js';

/**
 * Checks the events of one append (shape, id, type, size, schema) and encodes them, for HTTP appends and for the
 * events a command decided alike. Each error's path names the event as `events[i]` (`events[2].data.amount`).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function prepareEvents(
  events: readonly unknown[],
  catalog: EventCatalog,
  maxEventBytes: number,
): PreparedEvent[] {
  const seen = new Set<string>();
  return events.map((raw, i) => prepareEvent(raw, `events[${i}]`, seen, catalog, maxEventBytes));
}

/** One event; `seen` holds the ids of the append's events before it. */
function prepareEvent(
  raw: unknown,
  at: string,
  seen: Set<string>,
  catalog: EventCatalog,
  maxEventBytes: number,
): PreparedEvent {
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
}
