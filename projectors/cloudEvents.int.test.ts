import { randomUUID } from 'node:crypto';
import { type IHeaders, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGuard } from '../guard/guard.js';
import type { ClickHouseEngine } from '../pipeline/clickhouse/engine.js';
import { contentHash } from '../pipeline/events/contentHash.js';
import { openEventCatalog } from '../pipeline/schemas/eventCatalog.js';
import { API_KEY, post, startTestGuard, type TestGuardSetup, testGuardConfig } from '../test/support/guard.js';
import { uniqueName } from '../test/support/names.js';
import { startTestProjectorService, testProjectorSettings } from '../test/support/projector.js';
import { openTestEngine, type TestEngine } from '../test/support/readModelFixture.js';
import { stack } from '../test/support/stack.js';
import { waitFor } from '../test/support/waitFor.js';

/**
 * What leaves the guard, read the way a consumer that knows nothing of kes reads it (plain kafkajs, no kes code
 * decoding it): each record is a CloudEvent in Kafka binary mode, with exactly the headers docs/guard.md lists, and
 * a request's W3C traceparent travels from its HTTP header to the record and on into the projected row.
 */
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const deposit = () => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount: 5, currency: 'EUR', transferId: null },
});
const auth = { authorization: `Bearer ${API_KEY}` };

describe('records as CloudEvents, traceparent end to end', () => {
  let setup: TestGuardSetup;
  let guard: RunningGuard;
  let engine: ClickHouseEngine;
  let dir: string;
  let scratch: TestEngine | undefined;

  beforeAll(async () => {
    setup = testGuardConfig();
    guard = await startTestGuard(setup);
    scratch = await openTestEngine('cloudevents');
    ({ engine, dir } = scratch);
  }, 120_000);

  afterAll(async () => {
    await guard?.close();
    await scratch?.dispose();
  });

  it('a plain Kafka consumer reads every required CloudEvents attribute; traceparent only where the request had one', async () => {
    const traced = `account-${randomUUID()}`;
    const plain = `account-${randomUUID()}`;
    const tracedEvent = deposit();
    const plainEvent = deposit();
    const before = Date.now();
    expect(
      (
        await post(
          guard.url,
          traced,
          { expectedVersion: 'any', events: [tracedEvent] },
          { ...auth, traceparent: TRACE },
        )
      ).status,
    ).toBe(200);
    expect((await post(guard.url, plain, { expectedVersion: 'any', events: [plainEvent] })).status).toBe(200);
    const bad = await post(
      guard.url,
      plain,
      { expectedVersion: 'any', events: [deposit()] },
      { ...auth, traceparent: '00-nothex-01' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_header', path: 'traceparent' });

    const records = await consumePlain(`${setup.topicPrefix}account`, 2);
    const byStream = new Map(records.map((r) => [r.key, r]));
    for (const [stream, event] of [
      [traced, tracedEvent],
      [plain, plainEvent],
    ] as const) {
      const h = byStream.get(stream)?.headers;
      expect(h, stream).toBeDefined();
      expect(h?.ce_specversion).toBe('1.0');
      expect(h?.ce_id).toBe(event.id);
      expect(h?.ce_type).toBe('MoneyDeposited');
      expect(h?.ce_source).toBe('/kes/account');
      expect(h?.ce_subject).toBe(stream);
      expect(h?.ce_time).toMatch(RFC3339);
      const time = Date.parse(h?.ce_time ?? '');
      expect(time).toBeGreaterThanOrEqual(before - 1000);
      expect(time).toBeLessThanOrEqual(Date.now() + 1000);
    }
    // The exact set: every header costs every reader (docs/guard.md, "The record").
    const base = [
      'ce_id',
      'ce_source',
      'ce_specversion',
      'ce_subject',
      'ce_time',
      'ce_type',
      'kes-hash',
      'kes-version',
    ];
    expect(Object.keys(byStream.get(plain)?.headers ?? {}).sort()).toEqual(base);
    expect(Object.keys(byStream.get(traced)?.headers ?? {}).sort()).toEqual([...base, 'traceparent'].sort());
    expect(byStream.get(traced)?.headers.traceparent).toBe(TRACE);
  });

  it("carries an append request's traceparent into the projected events row, leaves it empty without one, and projects a record an older kes wrote", async () => {
    const traced = `account-${randomUUID()}`;
    const plain = `account-${randomUUID()}`;
    expect(
      (
        await post(
          guard.url,
          traced,
          { expectedVersion: 'any', events: [deposit(), deposit()] },
          { ...auth, traceparent: TRACE },
        )
      ).status,
    ).toBe(200);
    expect((await post(guard.url, plain, { expectedVersion: 'any', events: [deposit()] })).status).toBe(200);
    // A record as a kes before the CloudEvents names wrote it, in the same topic: projected like the others.
    const legacy = `account-${randomUUID()}`;
    await produceLegacyRecord(setup, legacy);
    const config = testProjectorSettings({ ...setup.config, CLICKHOUSE_EMBEDDED_PATH: dir });
    const { service, fatal } = await startTestProjectorService(config, engine);
    try {
      const events = `${config.KES_CLICKHOUSE_DATABASE}.events`;
      const rows = await waitFor(
        'both streams projected',
        async () => {
          const found = await engine.query<{ stream: string; version: number; traceparent: string }>(
            `SELECT stream, version, traceparent FROM ${events} WHERE stream IN {streams:Array(String)} ORDER BY stream, version`,
            { streams: [traced, plain, legacy] },
          );
          return found.length === 4 ? found : undefined;
        },
        60_000,
      );
      expect(rows.filter((r) => r.stream === traced).map((r) => r.traceparent)).toEqual([TRACE, TRACE]);
      expect(rows.filter((r) => r.stream === plain).map((r) => r.traceparent)).toEqual(['']);
      expect(rows.filter((r) => r.stream === legacy).map((r) => [Number(r.version), r.traceparent])).toEqual([[0, '']]);
      expect(fatal).toEqual([]);
    } finally {
      await service.stop();
    }
  });
});

/** One event with the headers an older kes wrote (kes-stream, kes-event-id, kes-type, kes-time in epoch ms). */
async function produceLegacyRecord(setup: TestGuardSetup, stream: string): Promise<void> {
  const catalog = await openEventCatalog({
    registryUrl: setup.config.SCHEMA_REGISTRY_URL,
    dir: setup.config.KES_SCHEMAS_DIR,
  });
  const data = { amount: 7, currency: 'EUR', transferId: null };
  const kafka = new Kafka({
    clientId: uniqueName('legacy'),
    brokers: stack().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: `${setup.topicPrefix}account`,
      messages: [
        {
          key: stream,
          value: catalog.encode('MoneyDeposited', data),
          headers: {
            'kes-stream': stream,
            'kes-version': '0',
            'kes-event-id': randomUUID(),
            'kes-type': 'MoneyDeposited',
            'kes-time': String(Date.now()),
            'kes-hash': contentHash('MoneyDeposited', data, {}),
          },
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }
}

/** Reads `count` records of `topic` from the start with kafkajs alone: the view of a consumer that is not kes. */
async function consumePlain(topic: string, count: number): Promise<{ key: string; headers: Record<string, string> }[]> {
  const kafka = new Kafka({ clientId: uniqueName('plain'), brokers: stack().kafkaBrokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('plain') });
  const out: { key: string; headers: Record<string, string> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        out.push({ key: message.key?.toString() ?? '', headers: strings(message.headers) });
      },
    });
    await waitFor(`${count} records from ${topic}`, async () => out.length >= count || undefined, 60_000);
    return out;
  } finally {
    await consumer.disconnect();
  }
}

function strings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    out[name] = String(Array.isArray(value) ? value[0] : value);
  }
  return out;
}
