import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { post, startTestGuard, testGuardConfig, wipeNamespace } from '../../test/support/guard.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import type { RunningGuard } from '../guard.js';
import { KeySpace } from '../protocol/keys.js';

/**
 * A rebuild after Redis lost everything gives back the state the guard had built by its own appends: the same
 * version per stream, the same idempotency entries (id -> check of stream and content, version, offset), no lock or reservation left, and watermarks at least where they were. And the guard
 * answers from it as before: retries from their first write, stale expected versions with the real version.
 */

const PARTITIONS = 4;
const deposit = () => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount: 5, currency: 'EUR', transferId: null },
});

interface Snapshot {
  versions: Record<string, string>[];
  watermarks: number[];
  locks: number;
  reservations: number;
  /** Per event id (its 16 bytes as a string) in any partition's window: check, version and offset. */
  ids: Record<string, string>;
}

/** Every entry of a partition's idempotency window, decoded (guard/protocol/scripts.lua.ts, WINDOW). */
async function windowEntries(redis: Redis, idm: string): Promise<Record<string, string>> {
  const ring = await redis.hgetall(idm);
  const out: Record<string, string> = {};
  if (ring.cur === undefined) return out;
  for (let g = Number(ring.lo); g <= Number(ring.cur); g++) {
    const base = Number(ring[`o${g}`] ?? 0);
    for (let b = 0; b < Number(ring[`b${g}`] ?? 0); b++) {
      const flat = await redis.hgetallBuffer(`${idm}:${g}:${b}`);
      for (const [field, v] of Object.entries(flat)) {
        const value = v as Buffer;
        const [version, offset] =
          value.length === 12
            ? [value.readUInt32BE(4), base + value.readInt32BE(8)]
            : [value.readDoubleBE(4), value.readDoubleBE(12)];
        out[field] = `${value.subarray(0, 4).toString('hex')}|${version}|${offset}`;
      }
    }
  }
  return out;
}

async function snapshot(redis: Redis, keys: KeySpace, topic: string): Promise<Snapshot> {
  const versions: Record<string, string>[] = [];
  const watermarks: number[] = [];
  let locks = 0;
  let reservations = 0;
  const ids: Record<string, string> = {};
  for (let p = 0; p < PARTITIONS; p++) {
    const pk = keys.partition(topic, p);
    versions.push(await redis.hgetall(pk.ver));
    watermarks.push(Number((await redis.get(pk.wm)) ?? '-1'));
    locks += await redis.hlen(pk.lock);
    reservations += await redis.hlen(pk.res);
    Object.assign(ids, await windowEntries(redis, pk.idm));
  }
  return { versions, watermarks, locks, reservations, ids };
}

describe('rebuild after Redis lost everything', () => {
  const setup = testGuardConfig({ KES_TOPIC_PARTITIONS: String(PARTITIONS) });
  const topic = `${setup.topicPrefix}account`;
  const keys = new KeySpace(`${setup.namespace}:`);
  let guard: RunningGuard;
  let redis: Redis;

  beforeAll(async () => {
    guard = await startTestGuard(setup);
    redis = new Redis(stack().redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await guard?.close();
  });

  it('gives back the versions, the idempotency window and the answers the guard had before', async () => {
    // 24 streams, 1 to 12 appends each of 1 to 3 events, written concurrently across streams.
    const streams = Array.from({ length: 24 }, (_, i) => ({ name: `account-${randomUUID()}`, appends: 1 + (i % 12) }));
    const written: {
      stream: string;
      body: { expectedVersion: number | 'no_stream'; events: unknown[] };
      answer: Record<string, unknown>;
    }[] = [];
    await Promise.all(
      streams.map(async (s, i) => {
        let version = -1;
        for (let a = 0; a < s.appends; a++) {
          const events = Array.from({ length: 1 + ((i + a) % 3) }, deposit);
          const body = { expectedVersion: version < 0 ? ('no_stream' as const) : version, events };
          const answer = await post(guard.url, s.name, body);
          expect(answer.status).toBe(200);
          version = Number(answer.body.lastVersion);
          written.push({ stream: s.name, body, answer: answer.body });
        }
      }),
    );
    // The guard answers after the commit and sends the confirm without waiting for it: wait until Redis applied them.
    const total = written.reduce((n, w) => n + w.body.events.length, 0);
    const before = await waitFor('every confirm applied', async () => {
      const s = await snapshot(redis, keys, topic);
      return s.locks === 0 && s.reservations === 0 && Object.keys(s.ids).length === total ? s : undefined;
    });
    const genBefore = await redis.get(keys.gen);

    expect(await wipeNamespace(stack().redisUrl, setup.namespace)).toBeGreaterThan(0);
    await waitFor(
      'a new generation record (the rebuild finished)',
      async () => {
        const gen = await redis.get(keys.gen);
        return gen !== null && gen !== genBefore;
      },
      30_000,
    );

    const after = await snapshot(redis, keys, topic);
    expect(after.versions).toEqual(before.versions);
    expect(after.ids).toEqual(before.ids);
    expect([after.locks, after.reservations]).toEqual([0, 0]);
    // Confirm moves a watermark to a transaction's last event; a rebuild to the partition's last offset (a commit
    // marker, or the abort marker of a group that reserved nothing: its transaction was begun before the reservation).
    const kafka = createKafka({ KAFKA_BROKERS: stack().kafkaBrokers }, 'rebuild-test', { logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    after.watermarks.forEach((w, p) => {
      const end = Number(ends.find((e) => e.partition === p)?.high ?? 0);
      expect(w).toBeGreaterThanOrEqual(before.watermarks[p] as number);
      expect(w).toBeLessThanOrEqual(end - 1);
    });

    // Every append retried is answered from its first write; stale expected versions see the real version.
    for (const w of written) {
      const retry = await post(guard.url, w.stream, w.body);
      expect(retry.body).toEqual({ ...w.answer, duplicate: true });
    }
    for (const s of streams) {
      const stale = await post(guard.url, s.name, { expectedVersion: 'no_stream', events: [deposit()] });
      expect(stale.body).toMatchObject({
        error: 'wrong_expected_version',
        actual: Number(before.versions.find((v) => s.name in v)?.[s.name]),
      });
    }
  });
});
