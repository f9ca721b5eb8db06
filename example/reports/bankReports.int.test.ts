import { resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportRoutes } from '../../projectors/http/reportRoutes.js';
import { reportParams } from '../../projectors/reports/reportDefinitions.js';
import { prepareReport, type ReportRow, runReport } from '../../projectors/reports/runReport.js';
import type { DecodedEvent } from '../../projectors/run/decodedEvent.js';
import { insertEvents, openReadModels, type ReadModelFixture } from '../../test/support/readModelFixture.js';
import { runKes } from '../../test/support/runKes.js';
import { bankReports } from './bankReports.js';
import { bankReportCatalog } from './reportCatalog.js';

/** The bank's file as `kes report --projections` loads it: compiled (npm run build). */
const BANK_FILE = resolve('dist/example/modules.js');

/**
 * The bank's reports on the real engine over a hand-written ledger, each figure worked out by hand below. The
 * ledger is inserted three times over (whole, then halves again), as a projector retrying batches would: the
 * events view is read with FINAL, so no figure may change.
 */

type Data = Record<string, string | number | null>;

/** Events with versions per stream and offsets per category numbered in the order they are listed. */
function ledger(entries: readonly [stream: string, type: string, time: string, data: Data][]): DecodedEvent[] {
  const versions = new Map<string, number>();
  const offsets = new Map<string, number>();
  return entries.map(([stream, type, time, data]) => {
    const category = stream.slice(0, stream.indexOf('-'));
    const version = versions.get(stream) ?? 0;
    const offset = offsets.get(category) ?? 0;
    versions.set(stream, version + 1);
    offsets.set(category, offset + 1);
    return {
      topic: `kes.events.${category}`,
      partition: 0,
      offset,
      stream,
      category,
      version,
      eventId: `${stream}-${version}`,
      type,
      timeMs: Date.parse(time),
      // As the projector writes it: JSON.stringify of avsc's decoded value (unwrapped unions: null or a string).
      dataJson: JSON.stringify(data),
      metadataJson: '{}',
    };
  });
}

const d1 = '2026-03-01T';
const d2 = '2026-03-02T';
const opened = (id: string, owner: string, currency: string): Data => ({ accountId: id, owner, currency });
const money = (amount: number, currency: string, transferId: string | null = null): Data => ({
  amount,
  currency,
  transferId,
});
const transfer = (transferId: string, from: string, to: string, amount: number, currency: string): Data => ({
  transferId,
  from,
  to,
  amount,
  currency,
});
const leg = (transferId: string, accountId: string, amount: number, currency: string): Data => ({
  transferId,
  accountId,
  amount,
  currency,
});

/**
 * Four accounts (alice, bob, carol in EUR; dave in USD) and four transfers:
 * - t1 alice → bob 30000 EUR: debited, credited, settled, completed (day 1);
 * - t2 bob → carol 10000 EUR after carol closed: debited, refunded to bob, failed (day 2);
 * - t3 alice → bob 5000 EUR: debited, not yet credited (in flight, day 2);
 * - t4 dave → alice 1000 USD: requested only (day 2).
 * Carol takes her 20000 out and closes on day 2; alice withdraws 7000 and dave 2000 in cash on day 2.
 */
const events = ledger([
  ['account-alice', 'AccountOpened', `${d1}09:00:00Z`, opened('alice', 'Alice', 'EUR')],
  ['account-alice', 'MoneyDeposited', `${d1}09:05:00Z`, money(100000, 'EUR')],
  ['account-bob', 'AccountOpened', `${d1}09:10:00Z`, opened('bob', 'Bob', 'EUR')],
  ['account-bob', 'MoneyDeposited', `${d1}09:15:00Z`, money(50000, 'EUR')],
  ['account-carol', 'AccountOpened', `${d1}09:20:00Z`, opened('carol', 'Carol', 'EUR')],
  ['account-carol', 'MoneyDeposited', `${d1}09:25:00Z`, money(20000, 'EUR')],
  ['account-dave', 'AccountOpened', `${d1}09:30:00Z`, opened('dave', 'Dave', 'USD')],
  ['account-dave', 'MoneyDeposited', `${d1}09:35:00Z`, money(70000, 'USD')],

  ['transfer-t1', 'TransferRequested', `${d1}10:00:00Z`, transfer('t1', 'alice', 'bob', 30000, 'EUR')],
  ['account-alice', 'MoneyWithdrawn', `${d1}10:00:01Z`, money(30000, 'EUR', 't1')],
  ['transfer-t1', 'TransferDebited', `${d1}10:00:02Z`, leg('t1', 'alice', 30000, 'EUR')],
  ['account-bob', 'MoneyDeposited', `${d1}10:00:03Z`, money(30000, 'EUR', 't1')],
  ['transfer-t1', 'TransferCredited', `${d1}10:00:04Z`, leg('t1', 'bob', 30000, 'EUR')],
  ['account-alice', 'DebitSettled', `${d1}10:00:05Z`, { transferId: 't1' }],
  ['transfer-t1', 'TransferCompleted', `${d1}10:00:06Z`, { transferId: 't1' }],

  ['account-carol', 'MoneyWithdrawn', `${d2}08:00:00Z`, money(20000, 'EUR')],
  ['account-carol', 'AccountClosed', `${d2}08:01:00Z`, { reason: 'moved away' }],

  ['transfer-t2', 'TransferRequested', `${d2}09:00:00Z`, transfer('t2', 'bob', 'carol', 10000, 'EUR')],
  ['account-bob', 'MoneyWithdrawn', `${d2}09:00:01Z`, money(10000, 'EUR', 't2')],
  ['transfer-t2', 'TransferDebited', `${d2}09:00:02Z`, leg('t2', 'bob', 10000, 'EUR')],
  ['account-bob', 'MoneyDeposited', `${d2}09:00:03Z`, money(10000, 'EUR', 't2')],
  ['transfer-t2', 'TransferFailed', `${d2}09:00:04Z`, { transferId: 't2', reason: 'account carol is closed' }],

  ['transfer-t3', 'TransferRequested', `${d2}11:00:00Z`, transfer('t3', 'alice', 'bob', 5000, 'EUR')],
  ['account-alice', 'MoneyWithdrawn', `${d2}11:00:01Z`, money(5000, 'EUR', 't3')],
  ['transfer-t3', 'TransferDebited', `${d2}11:00:02Z`, leg('t3', 'alice', 5000, 'EUR')],

  ['transfer-t4', 'TransferRequested', `${d2}12:00:00Z`, transfer('t4', 'dave', 'alice', 1000, 'USD')],
  ['account-alice', 'MoneyWithdrawn', `${d2}12:30:00Z`, money(7000, 'EUR')],
  ['account-dave', 'MoneyWithdrawn', `${d2}13:00:00Z`, money(2000, 'USD')],
]);

const now = Date.parse(`${d2}18:00:00Z`);
const run = async (fx: ReadModelFixture, name: string, options: Record<string, string> = {}) =>
  (await runReport(fx.engine, fx.database, prepareReport(bankReportCatalog, name, options, now))).rows;

/** Every report with the options the tests use, for comparing whole answers. */
async function everything(fx: ReadModelFixture): Promise<Record<string, ReportRow[]>> {
  return {
    balances: await run(fx, 'balances'),
    'money-daily': await run(fx, 'money-daily'),
    transfers: await run(fx, 'transfers'),
    'money-check': await run(fx, 'money-check'),
  };
}

const day1 = `${d1}00:00:00.000Z`;
const day2 = `${d2}00:00:00.000Z`;

// alice: +100000 −30000 (t1) −5000 (t3, open) −7000 = 58000; bob: +50000 +30000 (t1) −10000 +10000 (t2 refund) =
// 80000; carol: +20000 −20000 = 0, closed; dave: +70000 −2000 = 68000 USD.
const balances = [
  { account: 'bob', owner: 'Bob', currency: 'EUR', balance: 80000, status: 'open', open_debits: 0, version: 4 },
  { account: 'dave', owner: 'Dave', currency: 'USD', balance: 68000, status: 'open', open_debits: 0, version: 2 },
  { account: 'alice', owner: 'Alice', currency: 'EUR', balance: 58000, status: 'open', open_debits: 1, version: 5 },
  { account: 'carol', owner: 'Carol', currency: 'EUR', balance: 0, status: 'closed', open_debits: 0, version: 3 },
];

const moneyDaily = [
  {
    day: day1,
    currency: 'EUR',
    external_in: 170000,
    external_out: 0,
    transfers_debited: 30000,
    transfers_requested: 1,
  },
  { day: day1, currency: 'USD', external_in: 70000, external_out: 0, transfers_debited: 0, transfers_requested: 0 },
  { day: day2, currency: 'EUR', external_in: 0, external_out: 27000, transfers_debited: 15000, transfers_requested: 2 },
  { day: day2, currency: 'USD', external_in: 0, external_out: 2000, transfers_debited: 0, transfers_requested: 1 },
];

const transfers = [
  { state: 'requested', currency: 'USD', transfers: 1, amount: 1000 },
  { state: 'debited', currency: 'EUR', transfers: 1, amount: 5000 },
  { state: 'completed', currency: 'EUR', transfers: 1, amount: 30000 },
  { state: 'failed', currency: 'EUR', transfers: 1, amount: 10000 },
];

// EUR: deposits 100000 + 50000 + 20000 + 30000 (t1) + 10000 (t2 refund) = 210000; withdrawals 30000 + 20000 +
// 10000 + 5000 + 7000 = 72000; balances 58000 + 80000 + 0 = 138000; held: t3's 5000 (t1 and t2 hold 0);
// external 170000 in, 27000 out: 170000 − 27000 − 138000 − 5000 = 0.
const eur = {
  currency: 'EUR',
  deposits: 210000,
  withdrawals: 72000,
  balances: 138000,
  held_by_transfers: 5000,
  external_in: 170000,
  external_out: 27000,
  balance_check: 0,
  conservation: 0,
  ok: 'yes',
};
const usd = {
  currency: 'USD',
  deposits: 70000,
  withdrawals: 2000,
  balances: 68000,
  held_by_transfers: 0,
  external_in: 70000,
  external_out: 2000,
  balance_check: 0,
  conservation: 0,
  ok: 'yes',
};

describe('bank reports over a correct ledger, every event projected three times', () => {
  let fx: ReadModelFixture;

  beforeAll(async () => {
    fx = await openReadModels();
    await insertEvents(fx, events);
    await insertEvents(fx, events.slice(0, 14));
    await insertEvents(fx, events.slice(10));
  });

  afterAll(async () => {
    await fx?.dispose();
  });

  it('balances: per account, largest first, with open debits and the last version', async () => {
    expect(await run(fx, 'balances')).toEqual(balances);
    expect(await run(fx, 'balances', { limit: '2' })).toEqual(balances.slice(0, 2));
  });

  it('money-daily: external money in and out, transfer debits and requests per day and currency', async () => {
    expect(await run(fx, 'money-daily')).toEqual(moneyDaily);
    // Whole days overlapping the range: from 10:00 on day 2 keeps all of day 2.
    expect(await run(fx, 'money-daily', { from: `${d2}10:00` })).toEqual(moneyDaily.slice(2));
    expect(await run(fx, 'money-daily', { to: `${d2}00:00` })).toEqual(moneyDaily.slice(0, 2));
  });

  it('transfers: by the state of their latest event and currency, from and to on the request time', async () => {
    expect(await run(fx, 'transfers')).toEqual(transfers);
    expect(await run(fx, 'transfers', { from: `${d2}09:00`, to: `${d2}12:00` })).toEqual([transfers[1], transfers[3]]);
    expect(await run(fx, 'transfers', { to: `${d1}10:00:00.001` })).toEqual([transfers[2]]);
  });

  it('money-check: per currency, the money adds up and ok is yes', async () => {
    expect(await run(fx, 'money-check')).toEqual([eur, usd]);
  });

  it('a batch replayed again changes no figure', async () => {
    const before = await everything(fx);
    await insertEvents(fx, events);
    await insertEvents(fx, events);
    expect(await everything(fx)).toEqual(before);
    expect(before).toEqual({ balances, 'money-daily': moneyDaily, transfers, 'money-check': [eur, usd] });
  });
});

describe('money-check over a broken ledger', () => {
  let fx: ReadModelFixture;

  beforeAll(async () => {
    fx = await openReadModels();
    await insertEvents(fx, events);
  });

  afterAll(async () => {
    await fx?.dispose();
  });

  it('a credit without a debit makes conservation non-zero; money in the wrong currency fails balance_check', async () => {
    // Bob is paid 4000 by a transfer t9 that never debited anyone: money made from nothing.
    const [extra] = ledger([['account-bob', 'MoneyDeposited', `${d2}14:00:00Z`, money(4000, 'EUR', 't9')]]);
    if (!extra) throw new Error('no event');
    await insertEvents(fx, [{ ...extra, version: 5, eventId: 'account-bob-5', offset: 100 }]);
    expect(await run(fx, 'money-check')).toEqual([
      { ...eur, deposits: 214000, balances: 142000, conservation: -4000, ok: 'no' },
      usd,
    ]);

    // 500 USD paid into alice's EUR account from outside: counted as USD money, but in a EUR balance.
    const [wrong] = ledger([['account-alice', 'MoneyDeposited', `${d2}15:00:00Z`, money(500, 'USD')]]);
    if (!wrong) throw new Error('no event');
    await insertEvents(fx, [{ ...wrong, version: 6, eventId: 'account-alice-6', offset: 101 }]);
    expect(await run(fx, 'money-check')).toEqual([
      { ...eur, deposits: 214000, balances: 142500, balance_check: -500, conservation: -4500, ok: 'no' },
      { ...usd, deposits: 70500, external_in: 70500, balance_check: 500, conservation: 500, ok: 'no' },
    ]);
  });
});

describe('bank reports as definitions', () => {
  it('are listed with the core reports, read only the serving views, and bind their options', () => {
    expect(bankReportCatalog.names.slice(-4)).toEqual(['balances', 'money-daily', 'transfers', 'money-check']);
    for (const report of bankReports) {
      expect(bankReportCatalog.find(report.name)).toBe(report);
      const options = { from: now - 86_400_000, to: now, limit: 5 };
      const sql = report.sql('kes', options);
      expect(sql).toContain('`kes`.`events`');
      expect(sql).not.toMatch(/_v\d/);
      expect(sql).not.toContain(String(options.from));
      expect(sql).not.toContain(new Date(options.from).toISOString().slice(0, 10));
      expect(report.options.map((o) => o.name)).not.toContain('category');
    }
    expect(reportParams({ limit: 5 })).toEqual({ limit: 5 });
  });
});

describe('bank reports served: kes report and GET /reports/:name', () => {
  let fx: ReadModelFixture;
  let app: FastifyInstance;

  beforeAll(async () => {
    fx = await openReadModels();
    await insertEvents(fx, events);
    app = Fastify();
    await app.register(reportRoutes, {
      engine: fx.engine,
      database: fx.database,
      reports: bankReportCatalog,
      now: () => now,
    });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await fx?.dispose();
  });

  it('GET /reports lists them and GET /reports/money-check answers the rows', async () => {
    const list = (await app.inject({ method: 'GET', url: '/reports' })).json();
    expect(list.reports.find((r: { name: string }) => r.name === 'balances')).toMatchObject({
      options: [{ name: 'limit', default: '100', max: 100_000 }],
      columns: expect.arrayContaining([{ name: 'balance', kind: 'amount' }]),
    });
    const response = await app.inject({ method: 'GET', url: '/reports/money-check' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ report: 'money-check', from: null, to: null, rows: [eur, usd] });
    const days = await app.inject({ method: 'GET', url: `/reports/money-daily?from=${d2}00:00Z` });
    expect(days.json().rows).toEqual(moneyDaily.slice(2));
    const refused = await app.inject({ method: 'GET', url: '/reports/balances?category=account' });
    expect(refused.statusCode).toBe(400);
  });

  it('kes report: list, tables with amounts right-aligned, CSV', async () => {
    await fx.releaseForChild();
    // The bank is a user file: `kes report` serves its reports only when given it.
    const report = (...args: string[]) => runKes(['report', ...args, '--projections', BANK_FILE], { env: fx.env });
    const list = await report('list', '--format', 'json');
    expect(JSON.parse(list.stdout).map((r: { name: string }) => r.name)).toEqual(bankReportCatalog.names);
    const bare = await runKes(['report', 'balances'], { env: fx.env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("unknown report 'balances'");
    const table = await report('money-check');
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(
      [
        '┌──────────┬──────────┬─────────────┬──────────┬───────────────────┬─────────────┬──────────────┬───────────────┬──────────────┬─────┐',
        '│ currency │ deposits │ withdrawals │ balances │ held_by_transfers │ external_in │ external_out │ balance_check │ conservation │ ok  │',
        '│ EUR      │  210,000 │      72,000 │  138,000 │             5,000 │     170,000 │       27,000 │             0 │            0 │ yes │',
        '│ USD      │   70,000 │       2,000 │   68,000 │                 0 │      70,000 │        2,000 │             0 │            0 │ yes │',
        '└──────────┴──────────┴─────────────┴──────────┴───────────────────┴─────────────┴──────────────┴───────────────┴──────────────┴─────┘',
        '(2 rows; all time)',
        '',
      ].join('\n'),
    );
    const daily = await report('money-daily', '--to', `${d2}00:00`);
    expect(daily.stdout).toBe(
      [
        '┌────────────┬──────────┬─────────────┬──────────────┬───────────────────┬─────────────────────┐',
        '│ day        │ currency │ external_in │ external_out │ transfers_debited │ transfers_requested │',
        '│ 2026-03-01 │ EUR      │     170,000 │            0 │            30,000 │                   1 │',
        '│ 2026-03-01 │ USD      │      70,000 │            0 │                 0 │                   0 │',
        '└────────────┴──────────┴─────────────┴──────────────┴───────────────────┴─────────────────────┘',
        '(2 rows; … .. 2026-03-02 00:00:00.000 UTC)',
        '',
      ].join('\n'),
    );
    const csv = await report('balances', '--limit', '2', '--format', 'csv');
    expect(csv.stdout).toBe(
      [
        'account,owner,currency,balance,status,open_debits,version',
        'bob,Bob,EUR,80000,open,0,4',
        'dave,Dave,USD,68000,open,0,2',
        '',
      ].join('\n'),
    );
    const refused = await report('money-check', '--from', '-1d');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('kes: --from: not an option of report money-check; valid: (none)\n');
  });
});
