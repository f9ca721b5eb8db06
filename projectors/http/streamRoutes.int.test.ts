import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertFixture, openReadModels, type ReadModelFixture } from '../../test/support/readModelFixture.js';
import { streamRoutes } from './streamRoutes.js';

/** Stream reads over HTTP (fastify inject) from the `events` view, over the fixture inserted with duplicates. */
let fx: ReadModelFixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await openReadModels();
  await insertFixture(fx);
  app = Fastify();
  await app.register(streamRoutes, { engine: fx.engine, database: fx.database, defaultLimit: 3, maxLimit: 50 });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await fx?.dispose();
});

const get = async (url: string) => {
  const response = await app.inject({ method: 'GET', url });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
};

describe('GET /streams/:stream/events', () => {
  it('reads a stream in version order, each event once, in pages, marked eventually consistent', async () => {
    const first = await get('/streams/account-1/events');
    expect(first.status).toBe(200);
    expect(first.headers['x-kes-consistency']).toBe('eventual');
    expect(first.body).toMatchObject({ stream: 'account-1', from: 0, next: 3, consistency: 'eventual' });
    expect(first.body.note).toMatch(/^eventual: /);
    expect(first.body.events).toEqual([
      {
        version: 0,
        id: 'account-0-0',
        type: 'AccountOpened',
        time: '2026-01-10T10:00:05.000Z',
        data: { n: 0, stream: 'account-1' },
        metadata: { source: 'fixture' },
        position: { topic: 'kes.events.account', partition: 0, offset: 0 },
      },
      expect.objectContaining({ version: 1, type: 'MoneyDeposited' }),
      expect.objectContaining({ version: 2, type: 'MoneyDeposited' }),
    ]);
    const second = await get('/streams/account-1/events?from=3');
    expect(second.body.events.map((e: { version: number }) => e.version)).toEqual([3, 4]);
    expect(second.body.next).toBeNull();
    const exact = await get('/streams/account-1/events?from=2&limit=3');
    expect(exact.body.events.map((e: { version: number }) => e.version)).toEqual([2, 3, 4]);
    expect(exact.body.next).toBeNull();
    const all = await get('/streams/order-1/events?limit=50');
    expect(all.body.events.map((e: { type: string }) => e.type)).toEqual(['OrderPlaced', 'ItemAdded', 'OrderShipped']);
  });

  it('a stream the read model has not seen is an empty page, not an error', async () => {
    const { status, body } = await get('/streams/account-99/events');
    expect(status).toBe(200);
    expect(body).toMatchObject({ stream: 'account-99', events: [], next: null });
    expect((await get('/streams/account-1/events?from=5')).body.events).toEqual([]);
  });

  it.each([
    ['/streams/Account-1/events', 'stream', /^stream: 'Account-1': category 'Account' must be/],
    ['/streams/account/events', 'stream', /^stream: 'account': a stream is named category-id/],
    [`/streams/${encodeURIComponent("account-1' OR 1=1 --")}/events`, 'stream', /^stream: 'account-1' OR 1=1 --': id/],
    ['/streams/account-1/events?from=-1', 'from', /^from: '-1' is not a stream version; valid: 0, 1, 2, …$/],
    ['/streams/account-1/events?from=1.5', 'from', /^from: '1.5' is not a stream version/],
    ['/streams/account-1/events?limit=0', 'limit', /^limit: '0' is not an integer from 1 to 50; valid: 1..50$/],
    ['/streams/account-1/events?limit=51', 'limit', /^limit: '51' is not an integer from 1 to 50/],
    ['/streams/account-1/events?after=3', 'after', /^after: not a parameter here; valid: from, limit$/],
    ['/streams/account-1/events?from=1&from=2', 'from', /^from: given more than once/],
  ])('GET %s is a 400 naming %s', async (url, option, message) => {
    const { status, body } = await get(url);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_option', option, message: expect.stringMatching(message) });
    expect(Array.isArray(body.choices)).toBe(true);
  });
});
