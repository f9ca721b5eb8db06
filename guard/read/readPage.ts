import { InvalidRequestError } from '../../pipeline/errors.js';
import { isObject } from '../../pipeline/isObject.js';

/**
 * `GET /streams/{stream}/events?fromVersion=&limit=&direction=`: which query is asked, and which page of versions
 * answers it, decided on the stream's committed version. Pure: the route and the client share the rules.
 */
export type Direction = 'forwards' | 'backwards';

export interface ReadQuery {
  direction: Direction;
  /** The first version of the page (forwards), or its last (backwards). Undefined: the stream's start or end. */
  fromVersion: number | undefined;
  limit: number;
}

export const DEFAULT_READ_LIMIT = 100;
export const MAX_READ_LIMIT = 1000;

const QUERY_FIELDS = ['fromVersion', 'limit', 'direction'];

function integer(value: unknown, path: string, min: number, max: number): number {
  const text = Array.isArray(value) ? undefined : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new InvalidRequestError(
      'invalid_query',
      path,
      `expected one whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidRequestError('invalid_query', path, `expected a whole number from ${min} to ${max}, got ${text}`);
  }
  return n;
}

/** The query string as Fastify parsed it; every field optional, nothing else allowed. */
export function parseReadQuery(query: unknown): ReadQuery {
  const q = isObject(query) ? query : {};
  for (const key of Object.keys(q)) {
    if (!QUERY_FIELDS.includes(key)) {
      throw new InvalidRequestError(
        'unknown_field',
        `query.${key}`,
        `unknown parameter (expected ${QUERY_FIELDS.join(', ')})`,
      );
    }
  }
  let direction: Direction = 'forwards';
  if (q.direction !== undefined) {
    if (q.direction !== 'forwards' && q.direction !== 'backwards') {
      throw new InvalidRequestError(
        'invalid_query',
        'query.direction',
        `expected forwards or backwards, got ${JSON.stringify(q.direction)}`,
      );
    }
    direction = q.direction;
  }
  const fromVersion =
    q.fromVersion === undefined ? undefined : integer(q.fromVersion, 'query.fromVersion', 0, Number.MAX_SAFE_INTEGER);
  const limit = q.limit === undefined ? DEFAULT_READ_LIMIT : integer(q.limit, 'query.limit', 1, MAX_READ_LIMIT);
  return { direction, fromVersion, limit };
}

/** The versions one page holds (none when `last < first`), and where the next page starts (null: no more). */
export interface ReadPage {
  first: number;
  last: number;
  /** The fromVersion of the next page in the same direction; null once the page reaches the stream's end or start. */
  nextVersion: number | null;
}

export function pageOf(query: ReadQuery, committedVersion: number): ReadPage {
  const end = committedVersion;
  if (query.direction === 'forwards') {
    const first = query.fromVersion ?? 0;
    if (first > end) return { first, last: first - 1, nextVersion: null };
    const last = Math.min(end, first + query.limit - 1);
    return { first, last, nextVersion: last < end ? last + 1 : null };
  }
  if (end < 0) return { first: 0, last: -1, nextVersion: null };
  const last = Math.min(end, query.fromVersion ?? end);
  const first = Math.max(0, last - query.limit + 1);
  return { first, last, nextVersion: first > 0 ? first - 1 : null };
}
