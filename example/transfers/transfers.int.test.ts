import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../guard/client/commandClient.js';
import type { RunningGuard } from '../../guard/guard.js';
import { createLogger } from '../../guard/log.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { type EventCatalog, openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { freePort } from '../../test/support/freePort.js';
import { startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { KesProcess } from '../../test/support/kesProcess.js';
import { uniqueName } from '../../test/support/names.js';
import { waitFor } from '../../test/support/waitFor.js';
import { checkLedger } from '../check/ledgerCheck.js';
import { EXAMPLE_MODULES } from '../modules.js';
import { TransferProcessManager } from './processManager.js';
import type { TransferState } from './transfer.js';

/**
 * The transfer saga on the real stack: a guard hosting both modules, the process manager in-process and, for the
 * crash test, as its own process that kills itself between an account's step and the transfer's record of it.
 */
const TELLER = 'teller-key-000';
const TRANSFERS = 'transfers-key-000';

describe('transfers: the process manager', () => {
  const setup = testGuardConfig({
    KES_API_KEYS: JSON.stringify([
      { key: TELLER, service: 'teller', categories: ['none'], commands: ['account', 'transfer'] },
      { key: TRANSFERS, service: 'transfers', categories: ['transfer'], commands: ['account'] },
    ]),
  });
  const kafka = createKafka(setup.config, uniqueName('transfers-test'), { logLevel: logLevel.NOTHING });
  let guard: RunningGuard;
  let teller: CommandClient;
  let catalog: EventCatalog;

  const transferState = async (t: string) => (await teller.state<TransferState>('transfer', t)).state.status;
  const balance = async (a: string) => (await teller.state<{ balance: number }>('account', a)).state.balance;
  const open = async (owner: string, deposit: number, currency = 'EUR') => {
    const id = `${owner}-${randomUUID().slice(0, 8)}`;
    await teller.send('account', id, 'open', { owner, currency });
    if (deposit > 0) await teller.send('account', id, 'deposit', { amount: deposit, currency });
    return id;
  };

  /** A process manager in this process, in consumer group `group` (a new group reads the topic from offset 0). */
  const processManager = (group: string) =>
    new TransferProcessManager({
      kafka,
      catalog,
      client: new CommandClient({ url: guard.url, apiKey: TRANSFERS }),
      topic: `${setup.topicPrefix}transfer`,
      group,
      log: createLogger('transfers', 'error'),
    });

  beforeAll(async () => {
    guard = await startTestGuard(setup, { modules: EXAMPLE_MODULES });
    teller = new CommandClient({ url: guard.url, apiKey: TELLER });
    catalog = await openEventCatalog({
      registryUrl: setup.config.SCHEMA_REGISTRY_URL,
      dir: setup.config.KES_SCHEMAS_DIR,
    });
  });
  afterAll(async () => guard?.close());

  it('completes, fails a refused debit, refunds a refused credit; a full replay moves no money', async () => {
    const manager = processManager(uniqueName('pm'));
    const ada = await open('ada', 100);
    const bob = await open('bob', 0);
    const gone = await open('gone', 0);
    await teller.send('account', gone, 'close', {});
    const dollars = await open('usd', 0, 'USD');
    const ok = randomUUID();
    const tooMuch = randomUUID();
    const toClosed = randomUUID();
    const toDollars = randomUUID();
    await teller.send('transfer', ok, 'request', { from: ada, to: bob, amount: 30, currency: 'EUR' });
    await teller.send('transfer', tooMuch, 'request', { from: ada, to: bob, amount: 500, currency: 'EUR' });
    await teller.send('transfer', toClosed, 'request', { from: ada, to: gone, amount: 20, currency: 'EUR' });
    await teller.send('transfer', toDollars, 'request', { from: ada, to: dollars, amount: 10, currency: 'EUR' });
    const running = manager.start();
    try {
      const finished = async (t: string) => ['completed', 'failed'].includes(await transferState(t));
      for (const t of [ok, tooMuch, toClosed, toDollars])
        await waitFor(`transfer ${t} to finish`, () => finished(t), 60_000, 100);
      expect(await transferState(ok)).toBe('completed');
      expect(await transferState(tooMuch)).toBe('failed');
      expect(await transferState(toClosed)).toBe('failed');
      expect(await transferState(toDollars)).toBe('failed');
      expect(await balance(ada)).toBe(70);
      expect(await balance(bob)).toBe(30);
      expect((await teller.state<{ openDebits: object }>('account', ada)).state.openDebits).toEqual({});
      const refused = await manager.metrics.steps.get();
      const count = (step: string, outcome: string) =>
        refused.values.find((v) => v.labels.step === step && v.labels.outcome === outcome)?.value ?? 0;
      expect(count('debit', 'refused')).toBe(1);
      expect(count('credit', 'refused')).toBe(2);
      expect(count('refund', 'done')).toBe(2);
      const ledger = await checkLedger(kafka, catalog, setup.topicPrefix, { settled: true });
      expect(ledger.violations).toEqual([]);
      expect(ledger.transfers).toMatchObject({ completed: 1, failed: 3 });
      expect(ledger.currencies.find((c) => c.currency === 'EUR')).toMatchObject({
        externalIn: 100,
        balances: 100,
        heldByTransfers: 0,
      });
    } finally {
      await manager.stop();
      await running.catch(() => {});
    }

    // A second process manager, in a new group, replays every transfer event from offset 0: each step comes again,
    // after the balances changed (the refused debit would fit now). It must move no money.
    await teller.send('account', ada, 'deposit', { amount: 1_000, currency: 'EUR' });
    const replay = processManager(uniqueName('pm-replay'));
    const replaying = replay.start();
    try {
      // 4 debits, 3 credits, 2 refunds, 1 settle: every step of the first run, taken again.
      const steps = async () => (await replay.metrics.steps.get()).values.reduce((n, v) => n + v.value, 0);
      await waitFor('the replay to take every step again', async () => (await steps()) >= 10, 60_000, 100);
      const byOutcome = (await replay.metrics.steps.get()).values.filter((v) => v.labels.outcome === 'done');
      expect(byOutcome).toEqual([]);
      expect(await balance(ada)).toBe(1_070);
      expect(await balance(bob)).toBe(30);
      const ledger = await checkLedger(kafka, catalog, setup.topicPrefix, { settled: true });
      expect(ledger.violations).toEqual([]);
      expect(ledger.currencies.find((c) => c.currency === 'EUR')).toMatchObject({ externalIn: 1_100, balances: 1_100 });
    } finally {
      await replay.stop();
      await replaying.catch(() => {});
    }
  });

  it('killed mid-transfer again and again, and restarted: every transfer finishes, no money is created or lost', async () => {
    const accounts = await Promise.all(Array.from({ length: 10 }, (_, i) => open(`crash${i}`, 1_000)));
    const closed = await open('crashclosed', 0);
    await teller.send('account', closed, 'close', {});
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const t = `crash-${randomUUID()}`;
        ids.push(t);
        const from = accounts[i % accounts.length] as string;
        const to = i % 10 === 9 ? closed : (accounts[(i * 7 + 3) % accounts.length] as string);
        await teller.send('transfer', t, 'request', {
          from: from,
          to: to === from ? closed : to,
          amount: 50 + (i % 5) * 100,
          currency: 'EUR',
        });
      }),
    );
    const port = await freePort();
    const pm = new KesProcess('transfers', ['transfers'], `http://127.0.0.1:${port}/health/ready`, {
      KAFKA_BROKERS: setup.config.KAFKA_BROKERS.join(','),
      SCHEMA_REGISTRY_URL: setup.config.SCHEMA_REGISTRY_URL,
      KES_SCHEMAS_DIR: join(process.cwd(), 'schemas'),
      KES_TOPIC_PREFIX: setup.topicPrefix,
      KES_GUARD_URL: guard.url,
      KES_TRANSFERS_API_KEY: TRANSFERS,
      KES_TRANSFERS_GROUP: uniqueName('pm'),
      KES_TRANSFERS_PORT: String(port),
      KES_LOG_LEVEL: 'error',
      // One step in ten ends the process right after an account moved money for it, in the first four runs
      // (each restart waits for the group to drop the dead member: a session timeout).
      KES_FAILPOINTS: 'transfers-after-account-step:0.1',
      KES_TRANSFERS_SESSION_TIMEOUT_MS: '6000',
    });
    let externalKills = 0;
    // A run may end (failpoint) before it reports ready: that is a kill like any other.
    const restart = () => pm.start(pm.starts >= 4 ? { KES_FAILPOINTS: '' } : {}).catch(() => {});
    try {
      await restart();
      const finished = async () => {
        const states = await Promise.all(ids.map(transferState));
        return states.every((s) => s === 'completed' || s === 'failed');
      };
      const deadline = Date.now() + 150_000;
      while (!(await finished())) {
        if (Date.now() > deadline) throw new Error(`transfers did not finish:\n${pm.tail()}`);
        if (!pm.running) await restart();
        else if (externalKills === 0 && pm.starts >= 2) {
          await pm.kill(); // and once from outside, at an arbitrary point
          externalKills++;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await pm.stop();
    }
    const selfKills = pm.exits.filter((e) => e === 'SIGKILL').length - externalKills;
    expect(selfKills).toBeGreaterThanOrEqual(2);
    const ledger = await checkLedger(kafka, catalog, setup.topicPrefix, { settled: true, idPrefix: 'crash' });
    expect(ledger.violations).toEqual([]);
    const eur = ledger.currencies.find((c) => c.currency === 'EUR');
    expect(eur).toMatchObject({ externalIn: 10_000, externalOut: 0, balances: 10_000, heldByTransfers: 0 });
    const total = (await Promise.all(accounts.map(balance))).reduce((a, b) => a + b, 0);
    expect(total).toBe(10_000);
  }, 240_000);
});
