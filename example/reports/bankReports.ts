import { qualified } from '../../projectors/readModels/projection.js';
import { type ReportDefinition, timeRange, where } from '../../projectors/reports/reportDefinitions.js';
import type { OptionSpec } from '../../projectors/reports/reportOptions.js';

/**
 * The example banking domain's reports (schemas/account, schemas/transfer), over the `events` serving view only:
 * one row per event, read with FINAL, so a batch projected twice never counts twice. Amounts are integer minor units
 * (cents), grouped by currency and never added across currencies.
 *
 * How the event data reads: the projector decodes Avro with avsc's default (unwrapped) unions and writes the value
 * with JSON.stringify (projectors/run/eventDecoder.ts), so `transferId` (["null","string"]) is JSON `null` or a
 * plain string, and `amount` (long) a JSON number. JSONExtractString reads `null` (and a missing field) as '', so
 * `transferId = ''` is money that moved in or out of the bank (external), any other value a transfer's leg.
 *
 * Money semantics: a transfer debits its source (MoneyWithdrawn{transferId}), then credits its destination
 * (MoneyDeposited{transferId}) or, when the credit is refused, refunds the source (MoneyDeposited{transferId} on
 * the source). What a transfer holds is what it withdrew less what it deposited: 0 once completed or refunded,
 * more while in flight.
 */

const ACCOUNT = "'account'";
const TRANSFER = "'transfer'";

/** Expressions on one row of `events`. */
const amount = "JSONExtractInt(data, 'amount')";
const currency = "JSONExtractString(data, 'currency')";
const transferId = "JSONExtractString(data, 'transferId')";
const deposited = `sumIf(${amount}, type = 'MoneyDeposited')`;
const withdrawn = `sumIf(${amount}, type = 'MoneyWithdrawn')`;
const moneyMoved = `category = ${ACCOUNT} AND type IN ('MoneyDeposited', 'MoneyWithdrawn')`;

/** Transfer states in the order a transfer goes through them; a state outside the list sorts last. */
const transferStates = "['requested', 'debited', 'credited', 'completed', 'failed']";

const to: OptionSpec = { name: 'to', description: 'end of the range, exclusive (default: open)' };

export const bankReports: readonly ReportDefinition[] = [
  {
    name: 'balances',
    description: 'per account: owner, currency, balance, open or closed, debits of transfers not yet settled',
    options: [{ name: 'limit', description: 'how many accounts', default: '100', max: 100_000 }],
    columns: [
      { name: 'account', kind: 'text' },
      { name: 'owner', kind: 'text' },
      { name: 'currency', kind: 'text' },
      { name: 'balance', kind: 'amount' },
      { name: 'status', kind: 'text' },
      { name: 'open_debits', kind: 'count' },
      { name: 'version', kind: 'count' },
    ],
    // Per account and transfer id first ('' for events of no transfer), so a transfer's debit, settlement and
    // refund on the account meet in one group without keeping every transfer id of an account in memory.
    // An open debit: the account paid into a transfer that has neither settled it (DebitSettled) nor paid it back
    // (MoneyDeposited with the same transferId on this account).
    sql: (db) => `
      SELECT account, owner, currency, balance, status, open_debits, version
      FROM (
        SELECT stream, substring(stream, position(stream, '-') + 1) AS account,
               max(opened_owner) AS owner, max(opened_currency) AS currency,
               sum(deposits) - sum(withdrawals) AS balance,
               if(sum(closes) > 0, 'closed', 'open') AS status,
               countIf(tid != '' AND debits > 0 AND settlements + refunds = 0) AS open_debits,
               max(last_version) AS version
        FROM (
          SELECT stream, ${transferId} AS tid,
                 anyIf(JSONExtractString(data, 'owner'), type = 'AccountOpened') AS opened_owner,
                 anyIf(${currency}, type = 'AccountOpened') AS opened_currency,
                 ${deposited} AS deposits,
                 ${withdrawn} AS withdrawals,
                 countIf(type = 'MoneyWithdrawn') AS debits,
                 countIf(type = 'DebitSettled') AS settlements,
                 countIf(type = 'MoneyDeposited') AS refunds,
                 countIf(type = 'AccountClosed') AS closes,
                 max(version) AS last_version
          FROM ${qualified(db, 'events')}
          WHERE category = ${ACCOUNT}
          GROUP BY stream, tid
        )
        GROUP BY stream
      )
      ORDER BY balance DESC, account
      LIMIT {limit:UInt32}`,
  },
  {
    name: 'money-daily',
    description: 'per UTC day and currency: money in and out of the bank, transfer debits, transfers requested',
    options: [{ name: 'from', description: 'start of the range (default: open)' }, to],
    columns: [
      { name: 'day', kind: 'day' },
      { name: 'currency', kind: 'text' },
      { name: 'external_in', kind: 'amount' },
      { name: 'external_out', kind: 'amount' },
      { name: 'transfers_debited', kind: 'amount' },
      { name: 'transfers_requested', kind: 'count' },
    ],
    sql: (db, o) => `
      SELECT toStartOfDay(time) AS day, ${currency} AS currency,
             sumIf(${amount}, type = 'MoneyDeposited' AND ${transferId} = '') AS external_in,
             sumIf(${amount}, type = 'MoneyWithdrawn' AND ${transferId} = '') AS external_out,
             sumIf(${amount}, type = 'MoneyWithdrawn' AND ${transferId} != '') AS transfers_debited,
             countIf(type = 'TransferRequested') AS transfers_requested
      FROM ${qualified(db, 'events')}
      ${where([
        `(${moneyMoved} OR category = ${TRANSFER} AND type = 'TransferRequested')`,
        ...timeRange('toStartOfDay(time)', o, 'toStartOfDay'),
      ])}
      GROUP BY day, currency
      ORDER BY day, currency`,
  },
  {
    name: 'transfers',
    description:
      'transfers by state (their latest event: requested, debited, credited, completed, failed) and currency',
    options: [
      { name: 'from', description: 'only transfers requested at or after this (default: open)' },
      { ...to, description: 'only transfers requested before this (default: open)' },
    ],
    columns: [
      { name: 'state', kind: 'text' },
      { name: 'currency', kind: 'text' },
      { name: 'transfers', kind: 'count' },
      { name: 'amount', kind: 'amount' },
    ],
    sql: (db, o) => `
      SELECT state, currency, count() AS transfers, sum(requested_amount) AS amount
      FROM (
        SELECT stream, lower(replaceRegexpOne(argMax(type, version), '^Transfer', '')) AS state,
               anyIf(${currency}, type = 'TransferRequested') AS currency,
               anyIf(${amount}, type = 'TransferRequested') AS requested_amount,
               minIf(time, type = 'TransferRequested') AS requested_at
        FROM ${qualified(db, 'events')}
        WHERE category = ${TRANSFER}
        GROUP BY stream
      )
      ${where(timeRange('requested_at', o))}
      GROUP BY state, currency
      ORDER BY indexOf(${transferStates}, state) = 0, indexOf(${transferStates}, state), state, currency`,
  },
  {
    name: 'money-check',
    description:
      'per currency: does the money add up? balance_check and conservation are 0 and ok is yes on a correct ledger',
    options: [],
    columns: [
      { name: 'currency', kind: 'text' },
      { name: 'deposits', kind: 'amount' },
      { name: 'withdrawals', kind: 'amount' },
      { name: 'balances', kind: 'amount' },
      { name: 'held_by_transfers', kind: 'amount' },
      { name: 'external_in', kind: 'amount' },
      { name: 'external_out', kind: 'amount' },
      { name: 'balance_check', kind: 'amount' },
      { name: 'conservation', kind: 'amount' },
      { name: 'ok', kind: 'text' },
    ],
    // Three independent sums, one row per currency:
    // - deposits, withdrawals, external in and out by the currency written on each event;
    // - balances by each account's currency (its AccountOpened): balance_check is not 0 when money moved in a
    //   currency other than its account's, or on an account that was never opened;
    // - held_by_transfers per transfer and currency, counting only what a transfer holds (> 0): a transfer that
    //   paid out more than it took (a credit without a debit, a credit twice) holds nothing, and the money it
    //   made up shows in conservation. Summing negative holds too would make conservation 0 whatever happened.
    sql: (db) => `
      SELECT currency, deposits, withdrawals, balances, held_by_transfers, external_in, external_out,
             deposits - withdrawals - balances AS balance_check,
             external_in - external_out - balances - held_by_transfers AS conservation,
             if(balance_check = 0 AND conservation = 0, 'yes', 'no') AS ok
      FROM (
        SELECT currency, sum(d) AS deposits, sum(w) AS withdrawals, sum(b) AS balances, sum(h) AS held_by_transfers,
               sum(ei) AS external_in, sum(eo) AS external_out
        FROM (
          SELECT ${currency} AS currency, ${deposited} AS d, ${withdrawn} AS w, toInt64(0) AS b, toInt64(0) AS h,
                 sumIf(${amount}, type = 'MoneyDeposited' AND ${transferId} = '') AS ei,
                 sumIf(${amount}, type = 'MoneyWithdrawn' AND ${transferId} = '') AS eo
          FROM ${qualified(db, 'events')}
          WHERE ${moneyMoved}
          GROUP BY currency
          UNION ALL
          SELECT account_currency, toInt64(0), toInt64(0), sum(balance), toInt64(0), toInt64(0), toInt64(0)
          FROM (
            SELECT stream, anyIf(${currency}, type = 'AccountOpened') AS account_currency,
                   ${deposited} - ${withdrawn} AS balance
            FROM ${qualified(db, 'events')}
            WHERE category = ${ACCOUNT}
            GROUP BY stream
          )
          GROUP BY account_currency
          UNION ALL
          SELECT transfer_currency, toInt64(0), toInt64(0), toInt64(0), sum(greatest(held, 0)), toInt64(0), toInt64(0)
          FROM (
            SELECT ${transferId} AS tid, ${currency} AS transfer_currency, ${withdrawn} - ${deposited} AS held
            FROM ${qualified(db, 'events')}
            WHERE ${moneyMoved} AND ${transferId} != ''
            GROUP BY tid, transfer_currency
          )
          GROUP BY transfer_currency
        )
        GROUP BY currency
      )
      ORDER BY currency`,
  },
];
