import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../pipeline/errors.js';
import { pageOf, parseReadQuery } from './readPage.js';

describe('parseReadQuery', () => {
  it('defaults: forwards from the start, 100 events', () => {
    expect(parseReadQuery({})).toEqual({ direction: 'forwards', fromVersion: undefined, limit: 100 });
    expect(parseReadQuery(undefined)).toEqual({ direction: 'forwards', fromVersion: undefined, limit: 100 });
  });

  it('reads the three parameters', () => {
    expect(parseReadQuery({ fromVersion: '7', limit: '20', direction: 'backwards' })).toEqual({
      direction: 'backwards',
      fromVersion: 7,
      limit: 20,
    });
  });

  it.each([
    [{ fromVersion: '-1' }, 'query.fromVersion'],
    [{ fromVersion: 'abc' }, 'query.fromVersion'],
    [{ fromVersion: '1.5' }, 'query.fromVersion'],
    [{ fromVersion: ['1', '2'] }, 'query.fromVersion'],
    [{ fromVersion: '99999999999999999999' }, 'query.fromVersion'],
    [{ limit: '0' }, 'query.limit'],
    [{ limit: '1001' }, 'query.limit'],
    [{ limit: '' }, 'query.limit'],
    [{ direction: 'up' }, 'query.direction'],
    [{ from: '1' }, 'query.from'],
  ])('refuses %j, naming %s', (query, path) => {
    let error: unknown;
    try {
      parseReadQuery(query);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).path).toBe(path);
  });
});

describe('pageOf: which versions a page holds', () => {
  const q = (direction: 'forwards' | 'backwards', fromVersion: number | undefined, limit: number) => ({
    direction,
    fromVersion,
    limit,
  });

  it('forwards: from fromVersion, at most limit, next page after it', () => {
    expect(pageOf(q('forwards', undefined, 4), 9)).toEqual({ first: 0, last: 3, nextVersion: 4 });
    expect(pageOf(q('forwards', 8, 4), 9)).toEqual({ first: 8, last: 9, nextVersion: null });
    expect(pageOf(q('forwards', 6, 4), 9)).toEqual({ first: 6, last: 9, nextVersion: null });
  });

  it('forwards past the end, or on a stream with no events: an empty page, no next', () => {
    expect(pageOf(q('forwards', 10, 4), 9)).toEqual({ first: 10, last: 9, nextVersion: null });
    expect(pageOf(q('forwards', undefined, 4), -1)).toEqual({ first: 0, last: -1, nextVersion: null });
  });

  it('backwards: from fromVersion (default the end) down, next page before it', () => {
    expect(pageOf(q('backwards', undefined, 4), 9)).toEqual({ first: 6, last: 9, nextVersion: 5 });
    expect(pageOf(q('backwards', 2, 4), 9)).toEqual({ first: 0, last: 2, nextVersion: null });
    expect(pageOf(q('backwards', 50, 4), 9)).toEqual({ first: 6, last: 9, nextVersion: 5 });
    expect(pageOf(q('backwards', undefined, 4), -1)).toEqual({ first: 0, last: -1, nextVersion: null });
  });
});
