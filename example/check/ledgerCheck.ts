import type { Kafka } from 'kafkajs';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import { topicOf } from '../../pipeline/events/streamName.js';
import { readCommitted } from '../../pipeline/kafka/committedReader.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import type { EventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { type AccountEvent, type AccountState, accountModule } from '../accounts/account.js';
import { type TransferEvent, type TransferState, type TransferStatus, transferModule } from '../transfers/transfer.js';

/**
 * The money check, over the log of record (Kafka, read_committed), not over a read model: every account and
 * transfer stream folded from its first event, and the bank's rules checked at every version.
 *
 * - no balance ever below zero; no money into or out of an account that is not open; one currency per account;
 * - each transfer moved money at most once per step: one debit from its source; then one credit into its
 *   destination (completed) or one refund of the whole debit into its source (failed); a failed transfer whose
 *   debit was refused moved nothing;
 * - money moved under a transfer id that has no transfer stream is money nobody accounts for;
 * - with `settled`: no transfer is still in flight and no debit is still held.
 * When the caller knows what was acknowledged to it (external deposits and withdrawals per currency), the log must
 * hold exactly that: no acknowledged command lost, none applied twice.
 */
export interface CurrencyTotals {
  currency: string;
  externalIn: number;
  externalOut: number;
  balances: number;
  /** Money debited by transfers and not yet credited or refunded. */
  heldByTransfers: number;
}

export interface LedgerReport {
  accounts: { open: number; closed: number };
  transfers: Record<TransferStatus, number>;
  currencies: CurrencyTotals[];
  events: number;
  violations: string[];
}

/** One event of a stream, decoded: `{ type, data }` as the modules' evolve takes it. */
interface Stored {
  version: number;
  event: unknown;
}

interface TransferMoney {
  debits: { account: string; amount: number }[];
  deposits: { account: string; amount: number }[];
}

export async function checkLedger(
  kafka: Kafka,
  catalog: EventCatalog,
  topicPrefix: string,
  options: {
    settled?: boolean;
    acknowledged?: ReadonlyMap<string, { externalIn: number; externalOut: number }>;
    /** Only streams whose id starts with this (a demo run's accounts and transfers). */
    idPrefix?: string;
    timeoutMs?: number;
  } = {},
): Promise<LedgerReport> {
  const violations: string[] = [];
  const accounts = await readStreams(kafka, catalog, topicOf(topicPrefix, 'account'), options);
  const transfers = await readStreams(kafka, catalog, topicOf(topicPrefix, 'transfer'), options);
  const totals = new Map<string, CurrencyTotals>();
  const totalsOf = (currency: string) => {
    let t = totals.get(currency);
    if (!t) {
      t = { currency, externalIn: 0, externalOut: 0, balances: 0, heldByTransfers: 0 };
      totals.set(currency, t);
    }
    return t;
  };
  const money = new Map<string, TransferMoney>();
  const moneyOf = (t: string) => {
    let m = money.get(t);
    if (!m) {
      m = { debits: [], deposits: [] };
      money.set(t, m);
    }
    return m;
  };
  const report: LedgerReport = {
    accounts: { open: 0, closed: 0 },
    transfers: { none: 0, requested: 0, debited: 0, credited: 0, completed: 0, failed: 0 },
    currencies: [],
    events: 0,
    violations,
  };

  for (const [stream, events] of accounts) {
    report.events += events.length;
    let state: AccountState = accountModule.initialState();
    const id = stream.slice('account-'.length);
    for (const [version, event] of contiguous(stream, events, violations)) {
      const e = event as AccountEvent;
      if (e.type === 'MoneyDeposited' || e.type === 'MoneyWithdrawn') {
        const at = `${stream}@${version}`;
        const refund =
          e.type === 'MoneyDeposited' && e.data.transferId !== null && e.data.transferId in state.openDebits;
        if (state.status !== 'open' && !refund)
          violations.push(`${at}: ${e.type} on an account that is ${state.status}`);
        if (e.data.currency !== state.currency)
          violations.push(`${at}: ${e.data.currency} into a ${state.currency} account`);
        if (e.type === 'MoneyWithdrawn' && e.data.amount > state.balance) {
          violations.push(`${at}: withdrew ${e.data.amount} from a balance of ${state.balance}`);
        }
        const t = e.data.transferId;
        if (t === null) {
          const totals_ = totalsOf(e.data.currency);
          if (e.type === 'MoneyDeposited') totals_.externalIn += e.data.amount;
          else totals_.externalOut += e.data.amount;
        } else if (e.type === 'MoneyWithdrawn') moneyOf(t).debits.push({ account: id, amount: e.data.amount });
        else moneyOf(t).deposits.push({ account: id, amount: e.data.amount });
      }
      state = accountModule.evolve(state, e);
      if (state.balance < 0) violations.push(`${stream}@${version}: balance ${state.balance}`);
    }
    if (state.status === 'open') report.accounts.open++;
    if (state.status === 'closed') report.accounts.closed++;
    if (state.currency) totalsOf(state.currency).balances += state.balance;
    if (options.settled && Object.keys(state.openDebits).length > 0) {
      violations.push(`${stream}: debits still held by ${Object.keys(state.openDebits).join(', ')}`);
    }
  }

  const known = new Set<string>();
  for (const [stream, events] of transfers) {
    report.events += events.length;
    let state: TransferState = transferModule.initialState();
    for (const [, event] of contiguous(stream, events, violations))
      state = transferModule.evolve(state, event as TransferEvent);
    const t = stream.slice('transfer-'.length);
    known.add(t);
    report.transfers[state.status]++;
    const m = money.get(t) ?? { debits: [], deposits: [] };
    const debited = m.debits.reduce((s, d) => s + d.amount, 0);
    const deposited = m.deposits.reduce((s, d) => s + d.amount, 0);
    totalsOf(state.currency).heldByTransfers += debited - deposited;
    const wrong = (what: string) => violations.push(`${stream} (${state.status}): ${what}`);
    if (m.debits.length > 1) wrong(`debited ${m.debits.length} times`);
    if (m.deposits.length > 1) wrong(`paid out ${m.deposits.length} times`);
    if (m.debits.some((d) => d.account !== state.from || d.amount !== state.amount))
      wrong('a debit of the wrong account or amount');
    if (m.deposits.length > 0 && m.debits.length === 0) wrong('paid out without a debit: money created');
    if (
      state.status === 'completed' &&
      (debited !== state.amount || m.deposits[0]?.account !== state.to || deposited !== state.amount)
    ) {
      wrong(`completed, but debited ${debited} and credited ${deposited} to ${m.deposits[0]?.account ?? 'nobody'}`);
    }
    if (state.status === 'failed' && (deposited !== debited || m.deposits.some((d) => d.account !== state.from))) {
      wrong(`failed, but debited ${debited} and returned ${deposited}`);
    }
    if (options.settled && state.status !== 'completed' && state.status !== 'failed') wrong('still in flight');
  }
  for (const t of money.keys())
    if (!known.has(t)) violations.push(`money moved for transfer ${t}, which does not exist`);

  report.currencies = [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  for (const [currency, acknowledged] of options.acknowledged ?? []) {
    const logged = totals.get(currency) ?? { externalIn: 0, externalOut: 0 };
    if (logged.externalIn !== acknowledged.externalIn || logged.externalOut !== acknowledged.externalOut) {
      violations.push(
        `${currency}: clients were told of deposits ${acknowledged.externalIn} and withdrawals ${acknowledged.externalOut}; ` +
          `the log holds ${logged.externalIn} and ${logged.externalOut}`,
      );
    }
  }
  return report;
}

/** The stream's events in version order; a gap or a repeated version is a violation (and the fold stops there). */
function* contiguous(stream: string, events: Stored[], violations: string[]): Generator<[number, unknown]> {
  events.sort((a, b) => a.version - b.version);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Stored;
    if (e.version !== i) {
      violations.push(`${stream}: version ${e.version} where ${i} was expected`);
      return;
    }
    yield [e.version, e.event];
  }
}

async function readStreams(
  kafka: Kafka,
  catalog: EventCatalog,
  topic: string,
  options: { idPrefix?: string; timeoutMs?: number },
): Promise<Map<string, Stored[]>> {
  const watermarks = new HighWatermarks(kafka);
  const streams = new Map<string, Stored[]>();
  try {
    const admin = kafka.admin();
    await admin.connect();
    const exists = (await admin.listTopics()).includes(topic);
    await admin.disconnect();
    if (!exists) return streams;
    const ends = await watermarks.of(topic);
    const records: { stream: string; version: number; type: string; value: Buffer }[] = [];
    await readCommitted(
      kafka,
      [...ends].map(([partition, until]) => ({ topic, partition, from: 0, until })),
      ({ messages }) => {
        for (const message of messages) {
          const headers = decodeHeaders(message.headers);
          if (!headers || !message.value) continue;
          const id = headers.stream.slice(headers.stream.indexOf('-') + 1);
          if (options.idPrefix && !id.startsWith(options.idPrefix)) continue;
          records.push({ stream: headers.stream, version: headers.version, type: headers.type, value: message.value });
        }
      },
      { timeoutMs: options.timeoutMs ?? 120_000 },
    );
    for (const record of records) {
      const { data } = await catalog.decode(record.value);
      const list = streams.get(record.stream) ?? [];
      list.push({ version: record.version, event: { type: record.type, data } });
      streams.set(record.stream, list);
    }
  } finally {
    await watermarks.close();
  }
  return streams;
}
