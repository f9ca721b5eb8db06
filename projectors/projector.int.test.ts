import { type Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGuard } from '../guard/guard.js';
import type { ClickHouseEngine } from '../pipeline/clickhouse/engine.js';
import { contentHash } from '../pipeline/events/contentHash.js';
import { encodeHeaders } from '../pipeline/events/eventRecord.js';
import { readCommitted } from '../pipeline/kafka/committedReader.js';
import { HighWatermarks } from '../pipeline/kafka/highWatermarks.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { openEventCatalog } from '../pipeline/schemas/eventCatalog.js';
import { API_KEY, startTestGuard, type TestGuardSetup, testGuardConfig } from '../test/support/guard.js';
import { uniqueName } from '../test/support/names.js';
import { startTestProjectorService, testProjectorSettings } from '../test/support/projector.js';
import { openTestEngine, type TestEngine } from '../test/support/readModelFixture.js';
import { waitFor } from '../test/support/waitFor.js';
import { readCommittedEvents } from '../verify/history/topicContents.js';
import { runWorkload } from '../verify/load/workload.js';
import { compareReadModels } from '../verify/readModels/readModelCheck.js';
import { ProjectionCatalog } from './catalog/projectionCatalog.js';
import { ProjectorMetrics } from './metrics.js';
import { startProjector } from './projector.js';
import { eventsProjection } from './readModels/eventsProjection.js';
import { rebuildProjection } from './rebuild/rebuildProjection.js';
import { DLQ_HEADER } from './run/deadLetterSink.js';
import { projectionStatus } from './status/projectionStatus.js';

/**
 * The projector on real services: guarded events (with writers colliding), transactions aborted by other
 * producers, and a record that is not a kes event, all in the same topic. ClickHouse must equal the log.
 */
describe('projector: read models equal the log', () => {
  let setup: TestGuardSetup;
  let guard: RunningGuard;
  let kafka: Kafka;
  let engine: ClickHouseEngine;
  let dir: string;
  let scratch: TestEngine | undefined;

  beforeAll(async () => {
    setup = testGuardConfig();
    guard = await startTestGuard(setup);
    kafka = createKafka(setup.config, uniqueName('projector-test'), { logLevel: logLevel.NOTHING });
    scratch = await openTestEngine('projector');
    ({ engine, dir } = scratch);
  }, 120_000);

  afterAll(async () => {
    await guard?.close();
    await scratch?.dispose();
  });

  it('projects every committed event exactly once, never an aborted one, and dead-letters what it cannot decode', async () => {
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_EMBEDDED_PATH: dir });
    const category = 'acct';
    const topic = `${setup.topicPrefix}${category}`;
    await runWorkload({ urls: [guard.url], apiKey: API_KEY, category, streams: 30, concurrency: 8, durationMs: 1500 });
    const aborted = await writeAbortedEvents(kafka, setup, topic);
    const foreign = await writeForeignRecord(kafka, topic);

    const { service, metrics, fatal } = await startTestProjectorService(config, engine);
    try {
      // More appends while the projector runs.
      await runWorkload({
        urls: [guard.url],
        apiKey: API_KEY,
        category,
        streams: 30,
        concurrency: 8,
        durationMs: 1500,
      });
      const committed = await readCommittedEvents(kafka, { topicPrefix: setup.topicPrefix });
      expect(committed.length).toBeGreaterThan(20);
      expect(committed.some((e) => aborted.includes(e.eventId))).toBe(false);

      const events = `${config.KES_CLICKHOUSE_DATABASE}.events`;
      await waitFor(
        'every committed event projected',
        async () =>
          Number((await engine.query<{ n: string }>(`SELECT count() AS n FROM ${events}`))[0]?.n) >= committed.length,
        60_000,
      );
      const { figures, violations } = await compareReadModels(service.catalog, committed);
      expect(violations).toEqual([]);
      expect(figures.rows).toBe(committed.length);
      expect(figures.distinctIds).toBe(committed.length);
      expect(figures.perMinuteTotal).toBe(committed.length);
      const leaked = await engine.query(`SELECT event_id FROM ${events} WHERE event_id IN {ids:Array(String)}`, {
        ids: aborted,
      });
      expect(leaked).toEqual([]);

      // The foreign record is in the dead-letter topic with why and where from.
      const dlq = `${config.KES_DEADLETTER_PREFIX}events`;
      const letters = await readAll(kafka, dlq);
      expect(letters).toHaveLength(1);
      const headers = letters[0]?.headers ?? {};
      expect(String(headers[DLQ_HEADER.reason])).toMatch(/missing or malformed kes headers/);
      expect(String(headers[DLQ_HEADER.topic])).toBe(topic);
      expect(Number(headers[DLQ_HEADER.partition])).toBe(foreign.partition);
      expect(Number(headers[DLQ_HEADER.offset])).toBe(foreign.offset);
      expect(await metrics.registry.getSingleMetricAsString('kes_projector_dead_letters_total')).toMatch(/ 1$/m);

      const sources = {
        kafka,
        catalog: service.catalog,
        topicPrefix: setup.topicPrefix,
        deadLetterPrefix: config.KES_DEADLETTER_PREFIX,
      };
      await waitFor(
        'lag 0 in status',
        async () => (await projectionStatus(sources, [eventsProjection]))[0]?.lag === 0,
        30_000,
      );
      const [status] = await projectionStatus(sources, [eventsProjection]);
      expect(status).toMatchObject({ projection: 'events', version: 1, deadLetters: 1, lag: 0 });
      expect(status?.freshnessMs).toBeGreaterThanOrEqual(0);
      expect(fatal).toEqual([]);

      // Replay everything into the same tables (offsets lost): every row is inserted twice, answers do not change.
      await service.stop();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([`${config.KES_PROJECTOR_GROUP_PREFIX}events.v1`]);
      await admin.disconnect();
      const again = await startTestProjectorService(config, engine);
      try {
        await waitFor(
          'the replay inserted every event a second time',
          async () => {
            const metric = await again.metrics.registry.getSingleMetric('kes_projector_rows_total')?.get();
            return Number(metric?.values[0]?.value ?? 0) >= committed.length;
          },
          60_000,
        );
        const replayed = await compareReadModels(again.service.catalog, committed);
        expect(replayed.violations).toEqual([]);
        expect(replayed.figures.rows).toBe(committed.length);
        expect(replayed.figures.perMinuteTotal).toBe(committed.length);
      } finally {
        await again.service.stop();
      }
    } finally {
      await service.stop();
    }
  }, 180_000);

  it('rebuilds a projection from offset 0 while queries keep answering, then swaps to an equal result', async () => {
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_EMBEDDED_PATH: dir });
    await runWorkload({
      urls: [guard.url],
      apiKey: API_KEY,
      category: 'rb',
      streams: 20,
      concurrency: 4,
      durationMs: 1000,
    });
    const committed = await readCommittedEvents(kafka, { topicPrefix: setup.topicPrefix });
    const { service } = await startTestProjectorService(config, engine);
    const db = config.KES_CLICKHOUSE_DATABASE;
    const snapshot = async () => ({
      perMinute: await engine.query(`SELECT * FROM ${db}.events_per_minute ORDER BY minute, category, type`),
      activity: await engine.query(`SELECT * FROM ${db}.category_activity_hourly ORDER BY hour, category`),
      heads: await engine.query(`SELECT * FROM ${db}.stream_heads ORDER BY stream`),
    });
    try {
      await waitFor(
        'projected',
        async () => (await compareReadModels(service.catalog, committed)).figures.rows === committed.length,
        60_000,
      );
      const before = await snapshot();

      // Queries run against the serving views during the whole rebuild; every one must answer the full count.
      let stop = false;
      const answers: number[] = [];
      const failures: unknown[] = [];
      const reader = (async () => {
        while (!stop) {
          try {
            const [row] = await engine.query<{ n: string }>(`SELECT count() AS n FROM ${db}.events`);
            answers.push(Number(row?.n));
          } catch (error) {
            failures.push(error);
          }
        }
      })();
      const catalog = new ProjectionCatalog(engine, db, config.KES_PROJECTOR_GROUP_PREFIX);
      const result = await rebuildProjection({
        kafka,
        catalog,
        projection: eventsProjection,
        settings: config,
        metrics: new ProjectorMetrics(),
      });
      stop = true;
      await reader;
      expect(result).toMatchObject({ from: 1, to: 2 });
      expect(failures).toEqual([]);
      expect(answers.length).toBeGreaterThan(3);
      expect(new Set(answers)).toEqual(new Set([committed.length]));

      // The running projector follows the swap to version 2.
      await waitFor('projector on version 2', async () => service.runtime()[0]?.version === 2, 30_000);
      expect(await catalog.serving('events')).toMatchObject({ version: 2 });
      const after = await snapshot();
      expect(after).toEqual(before);
      const { violations, figures } = await compareReadModels(catalog, committed);
      expect(violations).toEqual([]);
      expect(figures.storedRows).toBe(committed.length);
      // Version 1 is gone once no projector wrote it any more.
      const tables = await engine.query<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE '%_v1%'`,
        { db },
      );
      expect(tables).toEqual([]);
    } finally {
      await service.stop();
    }
  }, 180_000);

  it('serves metrics, reports and stream reads over HTTP while it projects', async () => {
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_EMBEDDED_PATH: dir });
    await runWorkload({ urls: [guard.url], apiKey: API_KEY, category: 'web', streams: 5, concurrency: 2, appends: 40 });
    const projector = await startProjector(config, { engine });
    try {
      const stream = 'web-0';
      await waitFor(
        'stream readable over HTTP',
        async () => {
          const page = (await (await fetch(`${projector.url}/streams/${stream}/events?from=0`)).json()) as {
            events?: { version: number }[];
          };
          return (page.events?.length ?? 0) > 0;
        },
        60_000,
      );
      const page = (await (await fetch(`${projector.url}/streams/${stream}/events?from=1`)).json()) as {
        stream: string;
        events: { version: number }[];
        consistency: string;
      };
      expect(page.consistency).toBe('eventual');
      expect(page.stream).toBe(stream);
      expect(page.events.every((e) => e.version >= 1)).toBe(true);
      const metrics = await (await fetch(`${projector.url}/metrics`)).text();
      for (const name of [
        'kes_projector_rows_total',
        'kes_projector_batch_rows_bucket',
        'kes_projector_freshness_seconds_bucket',
        'kes_projector_lag_records{',
        'kes_projector_dead_letters_total',
        'kes_projector_assigned_partitions',
      ]) {
        expect(metrics).toContain(name);
      }
      const report = await fetch(`${projector.url}/reports/event-types`);
      expect(report.status).toBe(200);
      const unknown = await fetch(`${projector.url}/reports/nope`);
      expect(unknown.status).toBe(404);
    } finally {
      await projector.close();
    }
  }, 120_000);
});

/** Two producers each write well-formed kes events in transactions that interleave, then abort them. */
async function writeAbortedEvents(kafka: Kafka, setup: TestGuardSetup, topic: string): Promise<string[]> {
  const catalog = await openEventCatalog({
    registryUrl: setup.config.SCHEMA_REGISTRY_URL,
    dir: setup.config.KES_SCHEMAS_DIR,
  });
  const ids: string[] = [];
  const record = (n: number) => {
    const data = { amount: 1000 + n, currency: 'EUR' };
    const eventId = uniqueName('aborted');
    ids.push(eventId);
    const stream = `acct-aborted${n}`;
    return {
      key: stream,
      value: catalog.encode('MoneyDeposited', data),
      headers: encodeHeaders({
        stream,
        version: 0,
        eventId,
        type: 'MoneyDeposited',
        timeMs: Date.now(),
        contentHash: contentHash('MoneyDeposited', data, {}),
      }),
      partition: 0,
    };
  };
  const producers = [0, 1].map((i) =>
    kafka.producer({ transactionalId: uniqueName(`aborter${i}`), idempotent: true, maxInFlightRequests: 1 }),
  );
  for (const p of producers) await p.connect();
  try {
    const [a, b] = await Promise.all(producers.map((p) => p.transaction()));
    await a?.send({ topic, messages: [record(1)] });
    await b?.send({ topic, messages: [record(2)] });
    await a?.send({ topic, messages: [record(3)] });
    await b?.send({ topic, messages: [record(4)] });
    await a?.abort();
    await b?.abort();
  } finally {
    for (const p of producers) await p.disconnect();
  }
  return ids;
}

async function writeForeignRecord(kafka: Kafka, topic: string): Promise<{ partition: number; offset: number }> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const [meta] = await producer.send({ topic, messages: [{ key: 'not-kes', value: 'not an event', partition: 1 }] });
    return { partition: meta?.partition ?? 1, offset: Number(meta?.baseOffset) };
  } finally {
    await producer.disconnect();
  }
}

async function readAll(kafka: Kafka, topic: string) {
  const watermarks = new HighWatermarks(kafka);
  await waitFor(
    'dead-letter topic',
    async () => [...(await watermarks.of(topic).catch(() => new Map())).values()].some((n) => n > 0),
    30_000,
  );
  const ends = await watermarks.of(topic);
  await watermarks.close();
  const out: { headers: Record<string, unknown> }[] = [];
  await readCommitted(
    kafka,
    [...ends].map(([partition, until]) => ({ topic, partition, from: 0, until })),
    (r) => {
      for (const m of r.messages)
        out.push({ headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v?.toString()])) });
    },
  );
  return out;
}
