import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuardClient } from '../../guard/client/guardClient.js';
import type { RunningGuard } from '../../guard/guard.js';
import { AtomicAppendError, WrongExpectedVersionError } from '../../pipeline/errors.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { API_KEY, startTestGuard, type TestGuardSetup, testGuardConfig } from '../../test/support/guard.js';
import { uniqueName } from '../../test/support/names.js';
import { runKes } from '../../test/support/runKes.js';
import { HistoryWriter } from '../history/history.js';
import { runCheck } from '../history/report.js';
import { readTopicContents } from '../history/topicContents.js';
import { runWorkload } from './workload.js';

/**
 * The coalescing client, appendMany and appendAtomically against a real guard (real Redis and Kafka), and loads
 * through them (`runWorkload` and `kes load --batch --atomic`) checked by the history checker: 0 violations, atomic
 * groups in the log whole, in one transaction.
 */
describe('batched and atomic appends through the client, checked', () => {
  let setup: TestGuardSetup;
  let guard: RunningGuard;
  let dir: string;

  beforeAll(async () => {
    setup = testGuardConfig();
    guard = await startTestGuard(setup);
    dir = mkdtempSync(join(tmpdir(), 'kes-batch-load-'));
  });

  afterAll(async () => {
    await guard?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const client = () => new GuardClient({ url: guard.url, apiKey: API_KEY, coalesce: { lingerMs: 1, maxAppends: 64 } });

  it('concurrent appends: each caller its own result or typed error; appendMany per item', async () => {
    const guardClient = client();
    const category = uniqueName('acct').replace(/[^a-z0-9_]/g, '_');
    const calls = Array.from({ length: 100 }, (_, i) =>
      guardClient.appendToStream(`${category}-${i % 50}`, [{ type: 'MoneyDeposited', data: deposit(i) }], {
        expectedVersion: 'no_stream',
      }),
    );
    const settled = await Promise.allSettled(calls);
    // Two calls per stream, both expecting no stream: one is written at version 0, the other refused.
    for (let s = 0; s < 50; s++) {
      const pair = [settled[s], settled[s + 50]];
      expect(pair.filter((p) => p?.status === 'fulfilled')).toHaveLength(1);
      const refused = pair.find((p) => p?.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(WrongExpectedVersionError);
    }
    const many = await guardClient.appendMany([
      { stream: `${category}-0`, events: [{ type: 'MoneyDeposited', data: deposit(1) }], expectedVersion: 0 },
      { stream: `${category}-1`, events: [{ type: 'MoneyDeposited', data: deposit(2) }], expectedVersion: 5 },
      { stream: `${category}-2`, events: [{ type: 'MoneyDeposited', data: { amount: 'x' } }], expectedVersion: 0 },
    ]);
    expect(many.map((r) => r.ok)).toEqual([true, false, false]);
    expect(many[0]?.ok && many[0].result.firstVersion).toBe(1);
    expect(!many[1]?.ok && many[1]?.error).toBeInstanceOf(WrongExpectedVersionError);
    expect(!many[2]?.ok && many[2]?.error.code).toBe('KES_INVALID_REQUEST');
  });

  it('appendAtomically: all written in order, or none with every outcome', async () => {
    const guardClient = client();
    const category = uniqueName('acct').replace(/[^a-z0-9_]/g, '_');
    const streams = [0, 1, 2].map((i) => `${category}-${i}`);
    const written = await guardClient.appendAtomically(
      streams.map((stream, i) => ({
        stream,
        events: [{ type: 'MoneyDeposited', data: deposit(i) }],
        expectedVersion: 'no_stream',
      })),
    );
    expect(written.map((r) => [r.stream, r.firstVersion])).toEqual(streams.map((s) => [s, 0]));

    const error = await guardClient
      .appendAtomically([
        { stream: streams[0] as string, events: [{ type: 'MoneyDeposited', data: deposit(3) }], expectedVersion: 0 },
        { stream: streams[1] as string, events: [{ type: 'MoneyDeposited', data: deposit(4) }], expectedVersion: 7 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AtomicAppendError);
    expect((error as AtomicAppendError).failedIndex).toBe(1);
    expect((error as AtomicAppendError).cause).toBeInstanceOf(WrongExpectedVersionError);
    // Nothing of the refused batch was written: the first stream is still at version 0.
    expect((await guardClient.readStream(streams[0] as string)).version).toBe(0);
  });

  it('a batched load with atomic batches: the checker finds 0 violations and the atomic groups whole', async () => {
    // What the tests above wrote, none of it logged: the load's own events must add no unlogged one.
    const unloggedBefore = (
      await runCheck({
        kafka: createKafka(setup.config, uniqueName('check'), { logLevel: logLevel.NOTHING }),
        attempts: [],
        topicPrefix: setup.topicPrefix,
        allowUnlogged: true,
      })
    ).summary.unloggedEvents;
    const historyPath = join(dir, 'batched.jsonl');
    const history = new HistoryWriter(historyPath);
    const stats = await runWorkload({
      urls: [guard.url],
      apiKey: API_KEY,
      category: 'batched',
      streams: 40,
      concurrency: 24,
      appends: 600,
      maxEventsPerAppend: 3,
      batch: { lingerMs: 1, maxAppends: 64 },
      atomic: 3,
      history,
    });
    await history.close();
    expect(stats.written).toBeGreaterThan(0);
    expect(stats.atomicWritten).toBeGreaterThan(0);
    const report = await runCheck({
      kafka: createKafka(setup.config, uniqueName('check'), { logLevel: logLevel.NOTHING }),
      historyPath,
      topicPrefix: setup.topicPrefix,
      // The tests above wrote other categories under this guard's prefix; this load's streams are all checked.
      allowUnlogged: true,
    });
    expect(report.violations).toEqual([]);
    expect(report.summary.unloggedEvents).toBe(unloggedBefore);
    expect(report.summary.atomicGroups).toBe(stats.atomicBatches);
    // The one-transaction rule is not vacuous: every committed record carries its batch's producer id and epoch.
    const kafka = createKafka(setup.config, uniqueName('read'), { logLevel: logLevel.NOTHING });
    const { events } = await readTopicContents(kafka, { topicPrefix: setup.topicPrefix });
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.producerId === undefined || e.producerEpoch === undefined)).toEqual([]);
    expect(report.summary.atomicGroupsWritten).toBe(stats.atomicWritten);
  });

  it('kes load --batch --atomic 3 --check: exit 0, no violations', async () => {
    const env = {
      KAFKA_BROKERS: setup.config.KAFKA_BROKERS.join(','),
      KES_TOPIC_PREFIX: setup.topicPrefix,
      KES_GUARD_URL: guard.url,
      KES_HOME: dir,
    };
    const run = await runKes(
      [
        'load',
        '--seconds',
        '2',
        '--clients',
        '16',
        '--streams',
        '30',
        '--category',
        'cli',
        '--batch',
        '32',
        '--atomic',
        '3',
        '--check',
        '--format',
        'json',
      ],
      { env },
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/"atomicGroupsWritten": [1-9]/);
    expect(run.stdout).toMatch(/"violations": 0/);
  });
});

function deposit(n: number) {
  return { amount: 100 + n, currency: 'EUR', transferId: null };
}
