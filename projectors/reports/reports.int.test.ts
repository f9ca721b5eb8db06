import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertEvents,
  insertFixture,
  openReadModels,
  type ReadModelFixture,
} from '../../test/support/readModelFixture.js';
import { eventsProjection } from '../readModels/eventsProjection.js';
import { coreReportCatalog } from './reportCatalog.js';
import { reportParams } from './reportDefinitions.js';
import { ReportOptionError } from './reportErrors.js';
import { knownCategories, prepareReport, ReadModelsMissingError, runReport } from './runReport.js';

/**
 * Every report on the real engine over the fixture's ten events, each inserted two or three times: the answers are
 * exact and no duplicate is ever counted.
 */
let fx: ReadModelFixture;

beforeAll(async () => {
  fx = await openReadModels();
  await insertFixture(fx);
});

afterAll(async () => {
  await fx?.dispose();
});

const day = '2026-01-10T';
const run = async (name: string, options: Record<string, string> = {}) =>
  (
    await runReport(
      fx.engine,
      fx.database,
      prepareReport(coreReportCatalog, name, options, Date.parse(`${day}13:00:00Z`)),
    )
  ).rows;

describe('reports over the read models', () => {
  it('event-rate: events per minute by category and type, minutes overlapping the range', async () => {
    expect(await run('event-rate', { from: `${day}10:00`, to: `${day}12:00` })).toEqual([
      { minute: `${day}10:00:00.000Z`, category: 'account', type: 'AccountOpened', events: 2 },
      { minute: `${day}10:00:00.000Z`, category: 'account', type: 'MoneyDeposited', events: 1 },
      { minute: `${day}10:00:00.000Z`, category: 'order', type: 'OrderPlaced', events: 1 },
      { minute: `${day}10:01:00.000Z`, category: 'account', type: 'MoneyDeposited', events: 1 },
      { minute: `${day}10:02:00.000Z`, category: 'order', type: 'ItemAdded', events: 1 },
      { minute: `${day}10:59:00.000Z`, category: 'account', type: 'MoneyDeposited', events: 1 },
      { minute: `${day}11:00:00.000Z`, category: 'account', type: 'MoneyWithdrawn', events: 1 },
      { minute: `${day}11:30:00.000Z`, category: 'account', type: 'MoneyDeposited', events: 1 },
    ]);
    // A range starting inside a minute keeps that minute; the end is exclusive.
    expect(await run('event-rate', { from: `${day}10:59:30`, to: `${day}11:00`, category: 'account' })).toEqual([
      { minute: `${day}10:59:00.000Z`, category: 'account', type: 'MoneyDeposited', events: 1 },
    ]);
    // The default window is the 60 minutes before --to.
    expect(await run('event-rate', { to: `${day}12:01`, category: 'order' })).toEqual([
      { minute: `${day}12:00:00.000Z`, category: 'order', type: 'OrderShipped', events: 1 },
    ]);
  });

  it('category-activity: per hour and category, streams with events, new streams, events', async () => {
    expect(await run('category-activity', { from: `${day}10:30`, to: `${day}13:00` })).toEqual([
      {
        hour: `${day}10:00:00.000Z`,
        category: 'account',
        active_streams: 2,
        new_streams: 2,
        events: 5,
        last_event_at: `${day}10:59:59.999Z`,
      },
      {
        hour: `${day}10:00:00.000Z`,
        category: 'order',
        active_streams: 1,
        new_streams: 1,
        events: 2,
        last_event_at: `${day}10:02:00.000Z`,
      },
      {
        hour: `${day}11:00:00.000Z`,
        category: 'account',
        active_streams: 2,
        new_streams: 0,
        events: 2,
        last_event_at: `${day}11:30:00.000Z`,
      },
      {
        hour: `${day}12:00:00.000Z`,
        category: 'order',
        active_streams: 1,
        new_streams: 0,
        events: 1,
        last_event_at: `${day}12:00:00.500Z`,
      },
    ]);
    expect(await run('category-activity', { from: `${day}11:00`, to: `${day}12:00`, category: 'account' })).toEqual([
      {
        hour: `${day}11:00:00.000Z`,
        category: 'account',
        active_streams: 2,
        new_streams: 0,
        events: 2,
        last_event_at: `${day}11:30:00.000Z`,
      },
    ]);
  });

  it('categories: events, streams, first and last event, over all time or a range', async () => {
    expect(await run('categories')).toEqual([
      {
        category: 'account',
        events: 7,
        streams: 2,
        first_event_at: `${day}10:00:05.000Z`,
        last_event_at: `${day}11:30:00.000Z`,
      },
      {
        category: 'order',
        events: 3,
        streams: 1,
        first_event_at: `${day}10:00:20.000Z`,
        last_event_at: `${day}12:00:00.500Z`,
      },
    ]);
    expect(await run('categories', { from: `${day}11:00:00.000`, to: `${day}12:00:00.500` })).toEqual([
      {
        category: 'account',
        events: 2,
        streams: 2,
        first_event_at: `${day}11:00:00.000Z`,
        last_event_at: `${day}11:30:00.000Z`,
      },
    ]);
    // Time zones: 11:00+01:00 is 10:00 UTC.
    expect(await run('categories', { from: `${day}11:00+01:00`, to: `${day}10:00:06Z` })).toEqual([
      expect.objectContaining({ category: 'account', events: 1, streams: 1 }),
    ]);
  });

  it('top-streams: largest or most recent, limited, by category', async () => {
    const a1 = { stream: 'account-1', category: 'account', events: 5, last_type: 'MoneyWithdrawn' };
    const a2 = { stream: 'account-2', category: 'account', events: 2, last_type: 'MoneyDeposited' };
    const o1 = { stream: 'order-1', category: 'order', events: 3, last_type: 'OrderShipped' };
    expect(await run('top-streams')).toEqual([
      { ...a1, last_event_at: `${day}11:00:00.000Z` },
      { ...o1, last_event_at: `${day}12:00:00.500Z` },
      { ...a2, last_event_at: `${day}11:30:00.000Z` },
    ]);
    expect((await run('top-streams', { limit: '2' })).map((r) => r.stream)).toEqual(['account-1', 'order-1']);
    expect((await run('top-streams', { by: 'recent' })).map((r) => r.stream)).toEqual([
      'order-1',
      'account-2',
      'account-1',
    ]);
    expect((await run('top-streams', { category: 'account', by: 'recent' })).map((r) => r.stream)).toEqual([
      'account-2',
      'account-1',
    ]);
    expect((await run('top-streams', { from: `${day}11:15`, to: `${day}12:00` })).map((r) => r.stream)).toEqual([
      'account-2',
    ]);
  });

  it('event-types: events per type with their share', async () => {
    const rows = await run('event-types');
    expect(rows.map((r) => [r.type, r.category, r.events, r.share_pct])).toEqual([
      ['MoneyDeposited', 'account', 4, 40],
      ['AccountOpened', 'account', 2, 20],
      ['ItemAdded', 'order', 1, 10],
      ['MoneyWithdrawn', 'account', 1, 10],
      ['OrderPlaced', 'order', 1, 10],
      ['OrderShipped', 'order', 1, 10],
    ]);
    expect(rows[0]).toMatchObject({ first_minute: `${day}10:00:00.000Z`, last_minute: `${day}11:30:00.000Z` });
    expect(await run('event-types', { category: 'order', from: `${day}10:01:59` })).toEqual([
      expect.objectContaining({ type: 'ItemAdded', events: 1, share_pct: 50 }),
      expect.objectContaining({ type: 'OrderShipped', events: 1, share_pct: 50 }),
    ]);
  });

  it('knows the categories that have events, and refuses others with that list', async () => {
    expect(await knownCategories(fx.engine, fx.database)).toEqual(['account', 'order']);
    const error = await run('event-types', { category: 'shipment' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportOptionError);
    expect((error as Error).message).toBe("--category: unknown category 'shipment'; valid: account, order");
  });

  it('an injection attempt is refused before it runs, and would only ever be bound', async () => {
    const attempt = "x' OR 1=1 --";
    const error = await run('top-streams', { category: attempt }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportOptionError);
    expect((error as Error).message).toBe(
      "--category: 'x' OR 1=1 --' is not a category name (1 to 100 lowercase letters, digits, _); valid: account, order",
    );
    // Even past validation the value is a bound parameter: the query matches no category, it does not widen.
    const definition = coreReportCatalog.find('top-streams');
    if (!definition) throw new Error('no top-streams');
    const options = { category: attempt, limit: 10 };
    expect(await fx.engine.query(definition.sql(fx.database, options), reportParams(options))).toEqual([]);
  });

  it('reads the serving views: a rebuild swapped in is what the reports show next', async () => {
    const next = await fx.catalog.beginVersion(eventsProjection, 1);
    await insertEvents(fx, [{ ...fxEvent(), version: 0 }], next.version);
    await fx.catalog.swap(eventsProjection, next.version);
    expect(await run('categories')).toEqual([
      {
        category: 'audit',
        events: 1,
        streams: 1,
        first_event_at: '2026-02-01T00:00:00.000Z',
        last_event_at: '2026-02-01T00:00:00.000Z',
      },
    ]);
  });

  it('a database without read models is a ReadModelsMissingError naming it', async () => {
    const error = await runReport(
      fx.engine,
      'kes_no_such_db',
      prepareReport(coreReportCatalog, 'categories', {}),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ReadModelsMissingError);
    expect((error as Error).message).toMatch(/^KES_CLICKHOUSE_DATABASE: database kes_no_such_db has no read models/);
  });
});

function fxEvent() {
  return {
    topic: 'kes.events.audit',
    partition: 0,
    offset: 0,
    stream: 'audit-1',
    category: 'audit',
    version: 0,
    eventId: 'audit-0-0',
    type: 'Audited',
    timeMs: Date.parse('2026-02-01T00:00:00Z'),
    dataJson: '{}',
    metadataJson: '{}',
  };
}
