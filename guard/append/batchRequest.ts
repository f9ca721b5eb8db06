import { InvalidRequestError, type KesError, TooLargeError } from '../../pipeline/errors.js';
import { isObject } from '../../pipeline/isObject.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { type AppendRequest, parseAppendRequest } from './appendRequest.js';

/**
 * `POST /appends`: `{ appends: [{ stream, expectedVersion, events }], atomic? }`. The top level must be right or
 * the whole request is refused (400, path from the root). Each item is checked like a single append; an item that
 * fails is refused alone (non-atomic) or refuses the batch (atomic), with its path from the request's root
 * (`appends[3].events[0].data.amount`).
 */
export interface BatchRequest {
  atomic: boolean;
  /** In request order: the checked append, or why it was refused. */
  items: BatchItem[];
}

export type BatchItem =
  | { ok: true; stream: string; request: AppendRequest }
  | { ok: false; stream: string; error: KesError };

export function parseBatchRequest(
  body: unknown,
  catalog: EventCatalog,
  maxEventBytes: number,
  maxAppends: number,
): BatchRequest {
  if (!isObject(body)) throw new InvalidRequestError('invalid_body', 'body', 'expected a JSON object');
  for (const key of Object.keys(body)) {
    if (key !== 'appends' && key !== 'atomic') {
      throw new InvalidRequestError('unknown_field', key, 'unknown field (expected appends, atomic)');
    }
  }
  const atomic = body.atomic ?? false;
  if (typeof atomic !== 'boolean') throw new InvalidRequestError('invalid_atomic', 'atomic', 'expected true or false');
  const appends = body.appends;
  if (!Array.isArray(appends)) throw new InvalidRequestError('invalid_appends', 'appends', 'expected an array');
  if (appends.length === 0)
    throw new InvalidRequestError('invalid_appends', 'appends', 'at least one append is required');
  if (appends.length > maxAppends) {
    throw new InvalidRequestError(
      'too_many_appends',
      'appends',
      `${appends.length} appends exceed the limit of ${maxAppends} (KES_MAX_BATCH_APPENDS)`,
    );
  }
  const items = appends.map((item, i) => parseItem(item, `appends[${i}]`, catalog, maxEventBytes));
  if (atomic) refuseRepeatedStreams(items);
  return { atomic, items };
}

function parseItem(item: unknown, at: string, catalog: EventCatalog, maxEventBytes: number): BatchItem {
  const stream = isObject(item) && typeof item.stream === 'string' ? item.stream : '';
  try {
    if (!isObject(item)) throw new InvalidRequestError('invalid_append', '', 'expected a JSON object');
    if (typeof item.stream !== 'string')
      throw new InvalidRequestError('invalid_stream_name', 'stream', 'expected a string');
    const { stream: _, ...rest } = item;
    return { ok: true, stream, request: parseAppendRequest(item.stream, rest, catalog, maxEventBytes) };
  } catch (error) {
    return { ok: false, stream, error: underPath(error, at) };
  }
}

/** An atomic batch checks every expected version together: one stream twice would check against itself. */
function refuseRepeatedStreams(items: BatchItem[]): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    if (!item.ok) return;
    const seen = first.get(item.stream);
    if (seen === undefined) {
      first.set(item.stream, i);
      return;
    }
    items[i] = {
      ok: false,
      stream: item.stream,
      error: new InvalidRequestError(
        'repeated_stream',
        `appends[${i}].stream`,
        `stream ${item.stream} is already at appends[${seen}]; an atomic batch names each stream once`,
      ),
    };
  });
}

/** The item's error with its path from the request's root. */
export function underPath(error: unknown, at: string): KesError {
  const join = (path: string) => (path === '' || path === 'body' ? at : `${at}.${path}`);
  if (error instanceof InvalidRequestError) {
    return new InvalidRequestError(error.error, join(error.path), error.message.slice(error.path.length + 2));
  }
  if (error instanceof TooLargeError) {
    const { size, limit } = error.context as { size: number; limit: number };
    return new TooLargeError(join(error.path), size, limit);
  }
  throw error;
}
