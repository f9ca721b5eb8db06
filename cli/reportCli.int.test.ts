import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreReportCatalog } from '../projectors/reports/reportCatalog.js';
import { timeForms } from '../projectors/reports/reportOptions.js';

/** With no --projections, `kes report` hosts kes's own reports only: no domain's (the bank's is a file). */
const reportNames = coreReportCatalog.names;

import { insertFixture, openReadModels, type ReadModelFixture } from '../test/support/readModelFixture.js';
import { runKes } from '../test/support/runKes.js';

/**
 * `kes report` as a user runs it: the built CLI in its own process, reading a database this file prepared (the
 * fixture's events, inserted with duplicates) through KES_CLICKHOUSE_DATABASE.
 */
let fx: ReadModelFixture;

beforeAll(async () => {
  fx = await openReadModels();
  await insertFixture(fx);
  await fx.releaseForChild();
});

afterAll(async () => {
  await fx?.dispose();
});

const report = (...args: string[]) => runKes(['report', ...args], { env: fx.env });

describe('kes report: refusals are one line with the valid choices, exit 2, and nothing on stdout', () => {
  const all = ['list', ...reportNames].join(', ');
  it.each([
    [['nope'], `kes: report: unknown report 'nope'; valid: ${all}`],
    [[], `kes: report: a report name is required; valid: ${all}`],
    [['categories', '--format', 'xml'], "kes: --format: unknown format 'xml'; valid: table, json, csv"],
    [['list', '--format', 'yaml'], "kes: --format: unknown format 'yaml'; valid: table, json, csv"],
    [['event-rate', '--from', 'yesterday'], `kes: --from: 'yesterday' is not a time; valid: ${timeForms.join(', ')}`],
    [
      ['event-rate', '--to', '2026-02-30'],
      `kes: --to: '2026-02-30' is not a valid date and time; valid: ${timeForms.join(', ')}`,
    ],
    [
      ['categories', '--from', '2026-01-02', '--to', '2026-01-01'],
      'kes: --from: 2026-01-02T00:00:00.000Z is not before the end of the range (to) 2026-01-01T00:00:00.000Z; valid: a time before 2026-01-01T00:00:00.000Z',
    ],
    [['top-streams', '--limit', '0'], "kes: --limit: '0' is not an integer from 1 to 1000; valid: 1..1000"],
    [['top-streams', '--by', 'name'], "kes: --by: unknown by 'name'; valid: size, recent"],
    [
      ['categories', '--category', 'account'],
      'kes: --category: not an option of report categories; valid: --from, --to',
    ],
    [['event-types', '--category', 'shipment'], "kes: --category: unknown category 'shipment'; valid: account, order"],
    [
      ['top-streams', '--category', "x' OR 1=1 --"],
      "kes: --category: 'x' OR 1=1 --' is not a category name (1 to 100 lowercase letters, digits, _); valid: account, order",
    ],
    [['categories', '--nope'], "error: unknown option '--nope'"],
  ])('kes report %j', async (args, line) => {
    const run = await report(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${line}\n`);
    expect(run.stdout).toBe('');
  });
});

describe('kes report: real reports end to end', () => {
  it('list, as a table and as JSON', async () => {
    const table = await report('list');
    expect(table.code).toBe(0);
    for (const name of reportNames) expect(table.stdout).toMatch(new RegExp(`│ ${name} +│ \\S`));
    const json = await report('list', '--format', 'json');
    expect(JSON.parse(json.stdout).map((r: { name: string }) => r.name)).toEqual(reportNames);
  });

  it('categories: a readable table with numbers right-aligned, the same rows as JSON and CSV', async () => {
    const table = await report('categories');
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(
      [
        '┌──────────┬────────┬─────────┬─────────────────────────┬─────────────────────────┐',
        '│ category │ events │ streams │ first_event_at          │ last_event_at           │',
        '│ account  │      7 │       2 │ 2026-01-10 10:00:05.000 │ 2026-01-10 11:30:00.000 │',
        '│ order    │      3 │       1 │ 2026-01-10 10:00:20.000 │ 2026-01-10 12:00:00.500 │',
        '└──────────┴────────┴─────────┴─────────────────────────┴─────────────────────────┘',
        '(2 rows; all time)',
        '',
      ].join('\n'),
    );
    const json = await report('categories', '--format', 'json');
    expect(JSON.parse(json.stdout)).toEqual([
      {
        category: 'account',
        events: 7,
        streams: 2,
        first_event_at: '2026-01-10T10:00:05.000Z',
        last_event_at: '2026-01-10T11:30:00.000Z',
      },
      {
        category: 'order',
        events: 3,
        streams: 1,
        first_event_at: '2026-01-10T10:00:20.000Z',
        last_event_at: '2026-01-10T12:00:00.500Z',
      },
    ]);
    const csv = await report('categories', '--format', 'csv', '--from', '2026-01-10T11:00', '--to', '2026-01-10T12:00');
    expect(csv.stdout).toBe(
      'category,events,streams,first_event_at,last_event_at\naccount,2,2,2026-01-10T11:00:00.000Z,2026-01-10T11:30:00.000Z\n',
    );
  });

  it('event-rate over a range and a category, and top-streams with --limit and --by', async () => {
    const rate = await report(
      'event-rate',
      '--from',
      '2026-01-10T10:00',
      '--to',
      '2026-01-10T11:00',
      '--category',
      'account',
      '--format',
      'csv',
    );
    expect(rate.stdout).toBe(
      [
        'minute,category,type,events',
        '2026-01-10T10:00:00.000Z,account,AccountOpened,2',
        '2026-01-10T10:00:00.000Z,account,MoneyDeposited,1',
        '2026-01-10T10:01:00.000Z,account,MoneyDeposited,1',
        '2026-01-10T10:59:00.000Z,account,MoneyDeposited,1',
        '',
      ].join('\n'),
    );
    const top = await report('top-streams', '--limit', '2', '--by', 'recent');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('│ order-1   │ order    │      3 │ OrderShipped   │ 2026-01-10 12:00:00.500 │');
    expect(top.stdout).toContain('│ account-2 │ account  │      2 │ MoneyDeposited │ 2026-01-10 11:30:00.000 │');
    expect(top.stdout).not.toContain('account-1');
    expect(top.stdout).toContain('(2 rows; all time)');
  });
});
