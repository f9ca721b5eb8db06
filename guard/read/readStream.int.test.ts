import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, InvalidRequestError, UnauthorizedError } from '../../pipeline/errors.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { type EventCatalog, openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { API_KEY, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { GuardClient, type ReadAnswer } from '../client/guardClient.js';
import type { RunningGuard } from '../guard.js';
import { encodeIndex } from './positionIndex.js';
import { indexKey, StreamIndex } from './streamIndex.js';
import { StreamReader } from './streamReader.js';

/**
 * `GET /streams/{stream}/events` and GuardClient.readStream on the real stack. One partition per topic, so every
 * stream of a category interleaves with all the others in it: a read that scanned instead of using the index would
 * show in the reader's fetch counts.
 */
const deposit = (amount: number) => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount, currency: 'EUR', transferId: null },
  metadata: { n: amount },
});

describe('reading a stream from the guard', () => {
  const setup = testGuardConfig({
    KES_TOPIC_PARTITIONS: '1',
    KES_API_KEYS: JSON.stringify([
      { key: API_KEY, service: 'local-dev', categories: ['*'] },
      { key: 'transfers-service-key', service: 'transfers', categories: ['transfer'] },
      { key: 'reports-service-key', service: 'reports', categories: [], reads: ['account'] },
    ]),
  });
  let guard: RunningGuard;
  let client: GuardClient;
  let kafka: Kafka;
  let redis: Redis;
  let catalog: EventCatalog;
  let watermarks: HighWatermarks;
  let index: StreamIndex;
  let reader: StreamReader;
  const topic = `${setup.topicPrefix}account`;

  /** Appends `count` events to `stream` in appends of 1 to 3, each after an append to another stream. */
  async function fill(stream: string, count: number, others = 3): Promise<void> {
    let version = -1;
    while (version < count - 1) {
      for (let o = 0; o < others; o++) {
        await client.appendToStream(`account-other${o}-${randomUUID().slice(0, 8)}`, [deposit(1)], {
          expectedVersion: 'any',
        });
      }
      const n = Math.min(count - 1 - version, 1 + ((version + 1) % 3));
      const events = Array.from({ length: n }, (_, i) => deposit(version + 1 + i));
      const result = await client.appendToStream(stream, events, { expectedVersion: version });
      version = result.lastVersion;
    }
  }

  const read = (stream: string, query: string, key = API_KEY) =>
    fetch(`${guard.url}/streams/${encodeURIComponent(stream)}/events${query}`, {
      headers: { authorization: `Bearer ${key}` },
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  const versions = (page: ReadAnswer) => page.events.map((e) => e.version);

  beforeAll(async () => {
    guard = await startTestGuard(setup);
    client = new GuardClient({ url: guard.url, apiKey: API_KEY });
    kafka = createKafka(setup.config, `kes-read-test-${randomUUID()}`, { logLevel: logLevel.NOTHING });
    redis = new Redis(setup.config.REDIS_URL);
    catalog = await openEventCatalog({
      registryUrl: setup.config.SCHEMA_REGISTRY_URL,
      dir: setup.config.KES_SCHEMAS_DIR,
    });
    watermarks = new HighWatermarks(kafka);
    index = new StreamIndex(redis, setup.config.KES_REDIS_PREFIX);
    reader = new StreamReader(kafka, watermarks, catalog, index);
  }, 90_000);

  afterAll(async () => {
    await reader?.close();
    await watermarks?.close();
    redis?.disconnect();
    await guard?.close();
  });

  it('reads forwards and backwards, from a version, in pages to the end, with every field', async () => {
    const s = `account-${randomUUID()}`;
    await fill(s, 25);

    const all = await client.readStream(s, { limit: 1000 });
    expect(all).toMatchObject({ stream: s, version: 24, direction: 'forwards', fromVersion: 0, nextVersion: null });
    expect(versions(all)).toEqual(Array.from({ length: 25 }, (_, v) => v));
    const first = all.events[0];
    expect(first).toMatchObject({
      version: 0,
      type: 'MoneyDeposited',
      data: { amount: 0, currency: 'EUR', transferId: null },
      metadata: { n: 0 },
      position: { topic, partition: 0 },
    });
    expect(first?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(first?.time ?? '')).toBeGreaterThan(Date.now() - 120_000);
    // Offsets grow with versions, and other streams sit between them.
    const offsets = all.events.map((e) => e.position.offset);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    expect((offsets.at(-1) ?? 0) - (offsets[0] ?? 0)).toBeGreaterThan(25);

    const forwardPages: number[][] = [];
    let from: number | null = 0;
    while (from !== null) {
      const page: ReadAnswer = await client.readStream(s, { fromVersion: from, limit: 10 });
      forwardPages.push(versions(page));
      from = page.nextVersion;
    }
    expect(forwardPages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(forwardPages.flat()).toEqual(versions(all));

    const backwards = await client.readStream(s, { direction: 'backwards', limit: 4 });
    expect(versions(backwards)).toEqual([24, 23, 22, 21]);
    expect(backwards.nextVersion).toBe(20);
    const backPages: number[] = [];
    let back: number | null = 24;
    while (back !== null) {
      const page: ReadAnswer = await client.readStream(s, { direction: 'backwards', fromVersion: back, limit: 7 });
      backPages.push(...versions(page));
      back = page.nextVersion;
    }
    expect(backPages).toEqual([...versions(all)].reverse());

    expect(versions(await client.readStream(s, { fromVersion: 13, limit: 3 }))).toEqual([13, 14, 15]);
    expect(versions(await client.readStream(s, { direction: 'backwards', fromVersion: 2 }))).toEqual([2, 1, 0]);
    const past = await client.readStream(s, { fromVersion: 25 });
    expect(past).toMatchObject({ version: 24, events: [], nextVersion: null });
    // Every event as the reader found it is the event the append wrote (same id, same data) at the same place.
    const again = await reader.read({ topic, partition: 0, stream: s }, 0, 24);
    expect(again.events).toEqual(all.events);
  });

  it('fetches at the indexed offsets, not the partition: at most one fetch per run read', async () => {
    const s = `account-${randomUUID()}`;
    await fill(s, 12, 5);
    const entries = await index.load(topic, 0, s);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThanOrEqual(12);
    const { events, stats } = await reader.read({ topic, partition: 0, stream: s }, 0, 11);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 12 }, (_, v) => v));
    // Probes close together are one fetch (spanProbes): at most one fetch per entry, never a scan.
    expect(stats).toMatchObject({ scanned: false, repaired: 0 });
    expect(stats.probes).toBeLessThanOrEqual(entries.length);
    expect(stats.fetches).toBeLessThanOrEqual(entries.length);
  });

  it('falls back to scanning when the index is missing, answers the same, and writes the index again', async () => {
    const s = `account-${randomUUID()}`;
    await fill(s, 9);
    const before = await client.readStream(s);
    const entries = await index.load(topic, 0, s);
    await index.drop(topic, 0, s);
    const scanned = await reader.read({ topic, partition: 0, stream: s }, 0, 8);
    expect(scanned.stats).toMatchObject({ indexEntries: 0, probes: 1 });
    expect(scanned.events).toEqual(before.events);
    expect(await index.load(topic, 0, s)).toEqual(entries);
    // Through the guard too: the index dropped again, the answer is the same.
    await index.drop(topic, 0, s);
    expect(await client.readStream(s)).toEqual(before);
  });

  it('never answers a wrong event from a wrong index: it verifies each record and scans', async () => {
    const s = `account-${randomUUID()}`;
    const other = `account-${randomUUID()}`;
    await fill(s, 6);
    await fill(other, 6);
    const before = await client.readStream(s);
    // The other stream's positions under this stream's key: every offset names a record of another stream.
    await redis.set(
      indexKey(setup.config.KES_REDIS_PREFIX, topic, 0, s),
      encodeIndex(await index.load(topic, 0, other)),
    );
    const wrong = await reader.read({ topic, partition: 0, stream: s }, 0, 5);
    expect(wrong.stats.scanned).toBe(true);
    expect(wrong.events).toEqual(before.events);
    // Entries pointing past the stream's events (an index from another incarnation of the topic).
    await redis.set(
      indexKey(setup.config.KES_REDIS_PREFIX, topic, 0, s),
      encodeIndex([{ version: 0, offset: (before.events[5]?.position.offset ?? 0) + 1 }]),
    );
    expect((await reader.read({ topic, partition: 0, stream: s }, 0, 5)).events).toEqual(before.events);
    expect(await client.readStream(s)).toEqual(before);
  });

  it('a read right after an append sees it: consistent with the committed version', async () => {
    const s = `account-${randomUUID()}`;
    for (let v = 0; v < 15; v++) {
      const result = await client.appendToStream(s, [deposit(v)], { expectedVersion: v - 1 });
      const page = await client.readStream(s, { direction: 'backwards', limit: 1 });
      expect(page.version).toBe(result.lastVersion);
      expect(page.events[0]).toMatchObject({ version: v, data: { amount: v } });
      expect(page.events[0]?.position.offset).toBe(result.offset);
    }
  });

  it('an unknown stream is an empty page at version -1, in a category with or without a topic', async () => {
    for (const s of [`account-${randomUUID()}`, `nocategory_${Date.now()}-x`]) {
      const page = await client.readStream(s);
      expect(page).toEqual({
        stream: s,
        version: -1,
        direction: 'forwards',
        fromVersion: 0,
        limit: 100,
        events: [],
        nextVersion: null,
      });
    }
  });

  it('reads with read authority only: owned, sent commands to, or listed under reads', async () => {
    const s = `account-${randomUUID()}`;
    await client.appendToStream(s, [deposit(1)], { expectedVersion: 'no_stream' });
    const reports = new GuardClient({ url: guard.url, apiKey: 'reports-service-key' });
    expect(versions(await reports.readStream(s))).toEqual([0]);
    await expect(reports.appendToStream(s, [deposit(2)], { expectedVersion: 0 })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const transfers = new GuardClient({ url: guard.url, apiKey: 'transfers-service-key' });
    const refused = transfers.readStream(s);
    await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
    await expect(refused).rejects.toThrow("service 'transfers' may not read category 'account'");
    const forbidden = await read(s, '', 'transfers-service-key');
    expect(forbidden).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    const unknownKey = new GuardClient({ url: guard.url, apiKey: 'no-such-key-at-all' });
    await expect(unknownKey.readStream(s)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('answers a bad parameter with 400 naming it', async () => {
    const s = `account-${randomUUID()}`;
    const cases: [string, string][] = [
      ['?fromVersion=-1', 'query.fromVersion'],
      ['?fromVersion=x', 'query.fromVersion'],
      ['?limit=0', 'query.limit'],
      ['?limit=5000', 'query.limit'],
      ['?direction=sideways', 'query.direction'],
      ['?from=3', 'query.from'],
    ];
    for (const [query, path] of cases) {
      const answer = await read(s, query);
      expect(answer.status, query).toBe(400);
      expect(answer.body.path, query).toBe(path);
      expect(String(answer.body.message), query).toContain(path);
    }
    expect((await read('NoDash', '')).body).toMatchObject({ error: 'invalid_stream_name', path: 'stream' });
    const typed = client.readStream(s, { limit: 0 });
    await expect(typed).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(typed).rejects.toMatchObject({ path: 'query.limit' });
  });
});
