import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, type Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Expected } from '../../guard/append/expectedVersion.js';
import { contentHash } from '../../pipeline/events/contentHash.js';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { uniqueName } from '../../test/support/names.js';
import { runKes } from '../../test/support/runKes.js';
import { stack } from '../../test/support/stack.js';
import { type AppendAttempt, type AttemptOutcome, HistoryWriter } from './history.js';
import { READ_MODELS_NOT_CHECKED, runCheck } from './report.js';

/**
 * The checker on the real broker: records in the kes format written in Kafka transactions (one aborted), a history
 * that matches them, then a committed repeat of a version and an unlogged event, which it must report, through the
 * function and through the CLI (exit 13).
 */
describe('kes check on real Kafka', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let dir: string;
  const prefix = `${uniqueName('check')}.`;
  const topic = `${prefix}acct`;

  beforeAll(async () => {
    kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, uniqueName('check'), { logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    producer = kafka.producer({ transactionalId: uniqueName('check-tx'), maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    dir = mkdtempSync(join(tmpdir(), 'kes-check-'));
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes events of one stream in one transaction, as the guard does; answers the ok outcome. */
  async function write(
    stream: string,
    events: { id: string; version: number }[],
    end: 'commit' | 'abort' = 'commit',
  ): Promise<AttemptOutcome> {
    const tx = await producer.transaction();
    const [meta] = await tx.send({
      topic,
      messages: events.map((e) => {
        const data = { stream, n: e.version };
        return {
          key: stream,
          value: JSON.stringify(data),
          headers: encodeHeaders({
            stream,
            version: e.version,
            eventId: e.id,
            type: 'Opened',
            timeMs: Date.now(),
            contentHash: contentHash('Opened', data, undefined),
          }),
        };
      }),
    });
    await (end === 'commit' ? tx.commit() : tx.abort());
    const first = events[0]?.version ?? 0;
    return {
      status: 'ok',
      firstVersion: first,
      lastVersion: first + events.length - 1,
      topic,
      partition: meta?.partition ?? -1,
      offset: Number(meta?.baseOffset) + events.length - 1,
    };
  }

  function log(
    history: HistoryWriter,
    stream: string,
    eventIds: string[],
    expectedVersion: Expected,
    outcome: AttemptOutcome,
    attempt = 1,
  ): void {
    const startMs = Date.now();
    const a: AppendAttempt = {
      op: 'append',
      client: 'it',
      stream,
      expectedVersion,
      eventIds,
      attempt,
      startMs,
      endMs: startMs + 1,
      outcome,
    };
    history.record(a);
  }

  it('finds no violation in a matching history, then reports a repeated version and an unlogged event', async () => {
    const historyPath = join(dir, 'history.jsonl');
    const history = new HistoryWriter(historyPath);
    const id = () => randomUUID();

    const [a1, a2, a3, b1, c1, c2] = [id(), id(), id(), id(), id(), id()] as const;
    log(
      history,
      'acct-1',
      [a1, a2],
      'no_stream',
      await write('acct-1', [
        { id: a1, version: 0 },
        { id: a2, version: 1 },
      ]),
    );
    log(history, 'acct-2', [b1], 'no_stream', await write('acct-2', [{ id: b1, version: 0 }]));
    // A fenced zombie's transaction: a duplicate version and an id nobody logged, aborted, so never seen.
    await write(
      'acct-1',
      [
        { id: id(), version: 1 },
        { id: id(), version: 2 },
      ],
      'abort',
    );
    log(history, 'acct-1', [id()], 0, { status: 'conflict', actual: 1 });
    // Written, but the answer was lost; the retry is answered from the first write.
    const c = await write('acct-3', [
      { id: c1, version: 0 },
      { id: c2, version: 1 },
    ]);
    log(history, 'acct-3', [c1, c2], 'no_stream', { status: 'indeterminate', reason: 'timeout' });
    log(history, 'acct-3', [c1, c2], 'no_stream', c, 2);
    log(history, 'acct-3', [id()], 1, { status: 'indeterminate', reason: 'connection reset' });
    log(history, 'acct-2', [id()], 0, { status: 'rejected', httpStatus: 400, code: 'invalid_event' });
    log(history, 'acct-1', [a3], 1, await write('acct-1', [{ id: a3, version: 2 }]));
    await history.close();

    const clean = await runCheck({ kafka, historyPath, topicPrefix: prefix });
    expect(clean.violations).toEqual([]);
    expect(clean.summary).toMatchObject({
      attempts: 8,
      outcomes: { ok: 4, conflict: 1, rejected: 1, indeterminate: 2 },
      committedEvents: 6,
      topics: 1,
      partitions: 3,
      unloggedEvents: 0,
      violations: 0,
    });
    expect(clean.notChecked).toEqual([READ_MODELS_NOT_CHECKED]);

    const env = { KAFKA_BROKERS: stack().kafkaBrokers.join(',') };
    const cleanRun = await runKes(['check', '--history', historyPath, '--topic-prefix', prefix], { env });
    expect(cleanRun.stderr).not.toContain('unexpected');
    expect(cleanRun.code).toBe(0);
    expect(cleanRun.stdout).toContain(READ_MODELS_NOT_CHECKED);
    expect(cleanRun.stdout).toContain('no violations');

    // Now the log breaks invariant 1 (acct-2 gets version 0 twice) with an event nobody logged, and a record
    // without kes headers appears.
    const unlogged = id();
    const repeat = await write('acct-2', [{ id: unlogged, version: 0 }]);
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ key: 'acct-2', value: 'not an event' }] });
    await tx.commit();

    const broken = await runCheck({ kafka, historyPath, topicPrefix: prefix });
    const kinds = broken.violations.map((v) => v.invariant);
    expect(kinds).toEqual([1, 'unlogged', 'unlogged']);
    expect(broken.violations[0]).toMatchObject({
      stream: 'acct-2',
      eventIds: [unlogged],
      position: { topic, partition: repeat.status === 'ok' ? repeat.partition : -1 },
    });
    expect(broken.violations[0]?.detail).toContain('version 0 is repeated');
    expect(broken.violations[1]).toMatchObject({ invariant: 'unlogged', stream: 'acct-2', eventIds: [unlogged] });
    expect(broken.violations[2]?.detail).toContain('without kes headers');
    expect(broken.summary).toMatchObject({ committedEvents: 7, unloggedEvents: 1, foreignRecords: 1, violations: 3 });

    const allowed = await runCheck({ kafka, historyPath, topicPrefix: prefix, allowUnlogged: true });
    expect(allowed.violations.map((v) => v.invariant)).toEqual([1]);

    const run = await runKes(['check', '--history', historyPath, '--topic-prefix', prefix], { env });
    expect(run.code).toBe(13);
    expect(run.stdout).toContain('version 0 is repeated');
    expect(run.stdout).toContain('acct-2');
    expect(run.stdout).toContain(READ_MODELS_NOT_CHECKED);
    expect(run.stderr).toContain('kes: 3 violation(s) of the invariants');

    const json = await runKes(['check', '--history', historyPath, '--topic-prefix', prefix, '--format', 'json'], {
      env,
    });
    expect(json.code).toBe(13);
    const parsed = JSON.parse(json.stdout) as { violations: { invariant: unknown }[]; notChecked: string[] };
    expect(parsed.violations.map((v) => v.invariant)).toEqual([1, 'unlogged', 'unlogged']);
    expect(parsed.notChecked).toEqual([READ_MODELS_NOT_CHECKED]);
  });

  it('exits 2 naming the file and line of a bad history', async () => {
    const path = join(dir, 'bad.jsonl');
    const history = new HistoryWriter(path);
    history.record({
      op: 'append',
      client: 'it',
      stream: 'acct-1',
      expectedVersion: 'any',
      eventIds: ['x'],
      attempt: 1,
      startMs: 1,
      endMs: 2,
      outcome: { status: 'indeterminate', reason: 'timeout' },
    });
    await history.close();
    appendFileSync(path, '{"op":"append","client":"it"}\n');
    const run = await runKes(['check', '--history', path, '--topic-prefix', prefix], {
      env: { KAFKA_BROKERS: stack().kafkaBrokers.join(',') },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path}:2:`);
  });
});
