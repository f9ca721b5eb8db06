import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGuard } from '../guard/guard.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { freePort } from '../test/support/freePort.js';
import { startTestGuard, type TestGuardSetup, testGuardConfig } from '../test/support/guard.js';
import { KesProcess } from '../test/support/kesProcess.js';
import { uniqueName } from '../test/support/names.js';
import { projectorEnv, testProjectorSettings } from '../test/support/projector.js';
import { runKes } from '../test/support/runKes.js';
import { waitFor } from '../test/support/waitFor.js';

/**
 * The projector commands as a user runs them, each in its own process, on one ClickHouse (`kes clickhouse serve`,
 * reached through @clickhouse/client like a server): load through a guard, project, check invariant 5 with
 * `kes check --read-models`, read the status; bad names exit 2; a dead-letter topic that refuses writes stops the
 * projector (exit 14) without skipping the record.
 */
describe('projector commands', () => {
  let setup: TestGuardSetup;
  let guard: RunningGuard;
  let kafka: Kafka;
  let clickhouse: KesProcess;
  let clickhouseUrl: string;
  let dataPath: string;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    setup = testGuardConfig();
    guard = await startTestGuard(setup);
    kafka = createKafka(setup.config, uniqueName('cli'), { logLevel: logLevel.NOTHING });
    dataPath = mkdtempSync(join(tmpdir(), 'kes-cli-chdb-'));
    const port = await freePort();
    clickhouseUrl = `http://127.0.0.1:${port}`;
    clickhouse = new KesProcess(
      'clickhouse',
      ['clickhouse', 'serve', '--path', dataPath, '--port', String(port)],
      `${clickhouseUrl}/ping`,
      {},
    );
    await clickhouse.start();
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await clickhouse?.stop();
    await guard?.close();
    if (dataPath) rmSync(dataPath, { recursive: true, force: true });
  });

  it('load, project, check the read models, status', async () => {
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_URL: clickhouseUrl });
    const env = {
      ...projectorEnv(config),
      KES_GUARD_URL: guard.url,
      KES_HOME: mkdtempSync(join(tmpdir(), 'kes-cli-')),
    };
    const history = join(env.KES_HOME, 'history.jsonl');
    const load = await runKes(
      ['load', '--seconds', '2', '--clients', '4', '--streams', '20', '--category', 'cli', '--history', history],
      { env },
    );
    expect(load.code, load.stderr).toBe(0);

    const port = await freePort();
    const projector = new KesProcess(
      'projector',
      ['project', '--port', String(port)],
      `http://127.0.0.1:${port}/health/ready`,
      env,
    );
    stops.push(() => projector.stop());
    await projector.start();

    const check = await runKes(['check', '--history', history, '--read-models', '--format', 'json'], { env });
    expect(check.code, check.stderr + check.stdout).toBe(0);
    const report = JSON.parse(check.stdout) as { checks: { check: string; status: string }[]; notChecked: string[] };
    expect(report.checks).toContainEqual(
      expect.objectContaining({ check: 'invariant 5: read models equal the log', status: 'checked' }),
    );
    expect(report.notChecked).toEqual([]);

    await waitFor(
      'status shows lag 0',
      async () => {
        const run = await runKes(['projections', 'status', '--format', 'json'], { env });
        const [row] = JSON.parse(run.stdout) as { lag: number }[];
        return run.code === 0 && row?.lag === 0;
      },
      30_000,
      500,
    );
    const status = await runKes(['projections', 'status'], { env });
    expect(status.stdout).toMatch(/projection\s*│\s*version\s*│\s*partitions\s*│\s*lag\s*│\s*freshness/);
    expect(status.stdout).toMatch(/events\s*│\s*1\s*│\s*4\s*│\s*0\s*│/);
    await projector.stop();
  }, 180_000);

  it('refuses unknown projections with the valid ones (exit 2)', async () => {
    const rebuild = await runKes(['projections', 'rebuild', 'nope']);
    expect(rebuild.code).toBe(2);
    expect(rebuild.stderr.trim()).toMatch(/^kes: unknown projection 'nope'; valid: events$/m);
    const project = await runKes(['project', '--projection', 'nope']);
    expect(project.code).toBe(2);
    expect(project.stderr).toMatch(/unknown projection 'nope'; valid: events/);
  });

  it('stops loudly (exit 14) when the dead-letter topic cannot be written, and skips nothing', async () => {
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_URL: clickhouseUrl });
    const env = projectorEnv(config);
    const topic = `${setup.topicPrefix}dlq`;
    const dlq = `${config.KES_DEADLETTER_PREFIX}events`;
    const admin = kafka.admin();
    await admin.connect();
    // A dead-letter topic that takes no record of this size: every write to it fails.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 1 },
        { topic: dlq, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '64' }] },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'x', value: 'not a kes event, and long enough not to fit in 64 bytes' }],
    });
    await producer.disconnect();

    const port = await freePort();
    const run = await runKes(['project', '--port', String(port)], { env, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(14);
    expect(run.stderr).toMatch(
      new RegExp(
        `cannot write to dead-letter topic ${dlq.replaceAll('.', '\\.')} the record ${topic.replaceAll('.', '\\.')}\\[0\\]@0`,
      ),
    );
    // Nothing was committed past the record: it is still ahead of the group.
    const offsets = await kafka.admin();
    await offsets.connect();
    const [committed] = await offsets.fetchOffsets({
      groupId: `${config.KES_PROJECTOR_GROUP_PREFIX}events.v1`,
      topics: [topic],
    });
    await offsets.disconnect();
    expect(Number(committed?.partitions[0]?.offset ?? -1)).toBeLessThanOrEqual(0);
  }, 180_000);
});
