import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGuard } from '../../guard/guard.js';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { openEngine } from '../../pipeline/clickhouse/openEngine.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { API_KEY, startTestGuard, type TestGuardSetup, testGuardConfig } from '../../test/support/guard.js';
import { uniqueName } from '../../test/support/names.js';
import { testProjectorSettings } from '../../test/support/projector.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import { readCommittedEvents } from '../../verify/history/topicContents.js';
import { runWorkload } from '../../verify/load/workload.js';
import { type RunningProjector, startProjector } from '../projector.js';
import { tableProjection } from './tableProjection.js';

const perType = tableProjection({
  name: 'per-type',
  description: 'one row per event: its type and id',
  table: 'per_type',
  createTable: (t) => `CREATE TABLE IF NOT EXISTS ${t} (stream String, version UInt64, type String, event_id String)
    ENGINE = ReplacingMergeTree ORDER BY (stream, version)`,
  row: (e) => ({ type: e.type, event_id: e.eventId }),
});

/**
 * A user projection (tableProjection, in-process through startProjector) keeps kes's exactly-once-in-effect
 * guarantee when every batch is delivered again: the projector is stopped, its consumer group is moved back to
 * offset 0, and a new projector projects the whole log a second time into the same table. The view equals the log.
 */
describe('a user projection absorbs a replayed log', () => {
  let setup: TestGuardSetup;
  let guard: RunningGuard;
  let kafka: Kafka;
  let engine: ClickHouseEngine;
  let dir: string;
  let projector: RunningProjector | undefined;

  beforeAll(async () => {
    setup = testGuardConfig();
    guard = await startTestGuard(setup);
    kafka = createKafka(setup.config, uniqueName('user-projection'), { logLevel: logLevel.NOTHING });
    dir = mkdtempSync(join(tmpdir(), 'kes-user-projection-'));
    engine = await openEngine({ CLICKHOUSE_URL: stack().clickhouseUrl, CLICKHOUSE_EMBEDDED_PATH: dir });
  }, 120_000);

  afterAll(async () => {
    await projector?.close();
    await guard?.close();
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('projects every event once, then again from offset 0, and the view still counts each once', async () => {
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_EMBEDDED_PATH: dir });
    const db = config.KES_CLICKHOUSE_DATABASE;
    // A few seconds of writers; on a loaded machine one round may write little, so write until there are 20 events.
    let committed = await readCommittedEvents(kafka, { topicPrefix: setup.topicPrefix });
    for (let round = 0; round < 10 && committed.length < 20; round++) {
      await runWorkload({
        urls: [guard.url],
        apiKey: API_KEY,
        category: 'moves',
        streams: 20,
        concurrency: 8,
        durationMs: 1500,
      });
      committed = await readCommittedEvents(kafka, { topicPrefix: setup.topicPrefix });
    }
    expect(committed.length).toBeGreaterThanOrEqual(20);
    const byType = (rows: { type: string }[]) =>
      Object.fromEntries(
        [...new Set(rows.map((r) => r.type))].sort().map((t) => [t, rows.filter((r) => r.type === t).length]),
      );

    const view = async () => {
      const rows = await engine.query<{ n: string; ids: string }>(
        `SELECT count() AS n, uniqExact(event_id) AS ids FROM \`${db}\`.per_type`,
      );
      return { n: Number(rows[0]?.n), ids: Number(rows[0]?.ids) };
    };
    const viewByType = async () =>
      Object.fromEntries(
        (
          await engine.query<{ type: string; n: string }>(
            `SELECT type, count() AS n FROM \`${db}\`.per_type GROUP BY type ORDER BY type`,
          )
        ).map((r) => [r.type, Number(r.n)]),
      );
    const rowsProjected = async (p: RunningProjector) =>
      (await p.metrics.rows.get()).values.reduce((n, v) => n + v.value, 0);

    projector = await startProjector(config, { projections: [perType], engine });
    await waitFor('every event in the view', async () => (await view()).n === committed.length, 60_000, 200);
    expect(await rowsProjected(projector)).toBe(committed.length);
    await projector.close();
    projector = undefined;

    // Every batch again: the group goes back to offset 0 and a fresh projector reads the log from the start.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = `${setup.topicPrefix}moves`;
      await admin.resetOffsets({ groupId: `${config.KES_PROJECTOR_GROUP_PREFIX}per-type.v1`, topic, earliest: true });
    } finally {
      await admin.disconnect();
    }
    const again = await startProjector(config, { projections: [perType], engine });
    projector = again;
    await waitFor(
      'the whole log projected a second time',
      async () => (await rowsProjected(again)) >= committed.length,
      60_000,
      200,
    );
    expect(await rowsProjected(again)).toBe(committed.length);

    expect(await view()).toEqual({ n: committed.length, ids: committed.length });
    expect(await viewByType()).toEqual(byType(committed));
  });
});
