import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureEvents,
  insertEvents,
  insertFixture,
  openReadModels,
  type ReadModelFixture,
} from '../../test/support/readModelFixture.js';
import { coreReportCatalog } from '../reports/reportCatalog.js';
import { timeForms } from '../reports/reportOptions.js';

const reportNames = coreReportCatalog.names;

import { reportRoutes } from './reportRoutes.js';

/** The reports over HTTP (fastify inject) on the real engine, over the fixture's events inserted with duplicates. */
let fx: ReadModelFixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await openReadModels();
  await insertFixture(fx);
  app = Fastify();
  await app.register(reportRoutes, {
    engine: fx.engine,
    database: fx.database,
    now: () => Date.parse('2026-01-10T13:00:00Z'),
  });
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

describe('GET /reports', () => {
  it('lists every report with its options and columns', async () => {
    const { status, body } = await get('/reports');
    expect(status).toBe(200);
    expect(body.reports.map((r: { name: string }) => r.name)).toEqual(reportNames);
    expect(body.reports.find((r: { name: string }) => r.name === 'top-streams')).toMatchObject({
      options: expect.arrayContaining([
        expect.objectContaining({ name: 'limit', default: '20', max: 1000 }),
        expect.objectContaining({ name: 'by', default: 'size', choices: ['size', 'recent'] }),
      ]),
      columns: expect.arrayContaining([{ name: 'events', kind: 'count' }]),
    });
  });
});

describe('GET /reports/:name', () => {
  it('answers the rows as JSON, with the resolved range and options, marked eventually consistent', async () => {
    const { status, body, headers } = await get('/reports/top-streams?category=account&limit=1&from=2026-01-10T10:00Z');
    expect(status).toBe(200);
    expect(headers['x-kes-consistency']).toBe('eventual');
    expect(body).toEqual({
      report: 'top-streams',
      from: '2026-01-10T10:00:00.000Z',
      to: null,
      options: { category: 'account', limit: 1, by: 'size' },
      columns: [
        { name: 'stream', kind: 'text' },
        { name: 'category', kind: 'text' },
        { name: 'events', kind: 'count' },
        { name: 'last_type', kind: 'text' },
        { name: 'last_event_at', kind: 'time' },
      ],
      rows: [
        {
          stream: 'account-1',
          category: 'account',
          events: 5,
          last_type: 'MoneyWithdrawn',
          last_event_at: '2026-01-10T11:00:00.000Z',
        },
      ],
    });
  });

  it('takes relative times from its clock and answers exact counts', async () => {
    const { body } = await get('/reports/event-types?from=-3h&format=json');
    expect(body.from).toBe('2026-01-10T10:00:00.000Z');
    expect(body.rows.reduce((n: number, r: { events: number }) => n + r.events, 0)).toBe(fixtureEvents.length);
  });

  it('a category that got its first event is known at once, despite the cached list', async () => {
    expect((await get('/reports/event-types?category=account')).status).toBe(200);
    expect((await get('/reports/event-types?category=invoice')).status).toBe(400);
    await insertEvents(fx, [
      {
        ...fixtureEvents[0],
        stream: 'invoice-1',
        category: 'invoice',
        topic: 'kes.events.invoice',
      } as (typeof fixtureEvents)[0],
    ]);
    const { status, body } = await get('/reports/event-types?category=invoice');
    expect(status).toBe(200);
    expect(body.rows).toEqual([expect.objectContaining({ type: 'AccountOpened', category: 'invoice', events: 1 })]);
  });

  it.each([
    [
      '/reports/nope',
      404,
      {
        error: 'unknown_report',
        message: `report: unknown report 'nope'; valid: ${reportNames.join(', ')}`,
        option: 'report',
        choices: reportNames,
      },
    ],
    [
      '/reports/event-rate?from=yesterday',
      400,
      {
        error: 'invalid_option',
        message: `from: 'yesterday' is not a time; valid: ${timeForms.join(', ')}`,
        option: 'from',
        choices: timeForms,
      },
    ],
    [
      '/reports/top-streams?limit=5000',
      400,
      {
        error: 'invalid_option',
        message: "limit: '5000' is not an integer from 1 to 1000; valid: 1..1000",
        option: 'limit',
        choices: ['1..1000'],
      },
    ],
    [
      '/reports/categories?category=account',
      400,
      {
        error: 'invalid_option',
        message: 'category: not an option of report categories; valid: from, to',
        option: 'category',
        choices: ['from', 'to'],
      },
    ],
    [
      '/reports/event-rate?category=a&category=b',
      400,
      {
        error: 'invalid_option',
        message: 'category: given more than once; valid: one value',
        option: 'category',
        choices: ['one value'],
      },
    ],
    [
      '/reports/event-rate?format=csv',
      400,
      {
        error: 'invalid_option',
        message: "format: unknown format 'csv'; valid: json",
        option: 'format',
        choices: ['json'],
      },
    ],
    [
      `/reports/event-types?category=${encodeURIComponent("x' OR 1=1 --")}`,
      400,
      {
        error: 'invalid_option',
        message: expect.stringMatching(
          /^category: 'x' OR 1=1 --' is not a category name .*; valid: account, (invoice, )?order$/,
        ),
        option: 'category',
        choices: expect.arrayContaining(['account', 'order']),
      },
    ],
  ])('GET %s is %i with the option and the valid choices', async (url, code, expected) => {
    const { status, body } = await get(url);
    expect(status).toBe(code);
    expect(body).toEqual(expected);
  });

  it('a database without read models is a 503', async () => {
    const other = Fastify();
    await other.register(reportRoutes, { engine: fx.engine, database: 'kes_no_such_db' });
    const response = await other.inject({ method: 'GET', url: '/reports/categories' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: 'read_models_missing' });
    await other.close();
  });
});
