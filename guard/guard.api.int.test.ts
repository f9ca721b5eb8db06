import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, post, startTestGuard, testGuardConfig, wipeNamespace } from '../test/support/guard.js';
import { stack } from '../test/support/stack.js';
import { waitFor } from '../test/support/waitFor.js';
import { GuardClient } from './client/guardClient.js';
import type { RunningGuard } from './guard.js';
import { partitionOf } from './protocol/partitioner.js';

/** The guard's HTTP API on the real stack: every answer of the contract, and what each one wrote. */
const deposit = (amount = 100) => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount, currency: 'EUR', transferId: null },
});

describe('guard HTTP API', () => {
  const setup = testGuardConfig({
    KES_API_KEYS: JSON.stringify([
      { key: API_KEY, service: 'local-dev', categories: ['*'] },
      { key: 'accounts-service-key', service: 'accounts', categories: ['account'] },
    ]),
    KES_MAX_BODY_BYTES: '4096',
    KES_MAX_EVENT_BYTES: '512',
  });
  let guard: RunningGuard;

  beforeAll(async () => {
    guard = await startTestGuard(setup);
  });
  afterAll(async () => guard?.close());

  it('appends with each kind of expected version and answers versions and position', async () => {
    const s = `account-${randomUUID()}`;
    const first = await post(guard.url, s, { expectedVersion: 'no_stream', events: [deposit(), deposit()] });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      stream: s,
      firstVersion: 0,
      lastVersion: 1,
      topic: `${setup.topicPrefix}account`,
    });
    expect(typeof first.body.partition).toBe('number');
    expect(typeof first.body.offset).toBe('number');

    expect((await post(guard.url, s, { expectedVersion: 1, events: [deposit()] })).body.lastVersion).toBe(2);
    expect((await post(guard.url, s, { expectedVersion: 'stream_exists', events: [deposit()] })).body.lastVersion).toBe(
      3,
    );
    expect((await post(guard.url, s, { expectedVersion: 'any', events: [deposit()] })).body.lastVersion).toBe(4);
    const fresh = `account-${randomUUID()}`;
    expect((await post(guard.url, fresh, { expectedVersion: -1, events: [deposit()] })).body.firstVersion).toBe(0);

    for (const expectedVersion of [2, 'no_stream', -1] as const) {
      const conflict = await post(guard.url, s, { expectedVersion, events: [deposit()] });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({
        error: 'wrong_expected_version',
        stream: s,
        expected: expectedVersion,
        actual: 4,
      });
    }
    const none = await post(guard.url, `account-${randomUUID()}`, {
      expectedVersion: 'stream_exists',
      events: [deposit()],
    });
    expect(none.body).toMatchObject({ error: 'wrong_expected_version', actual: -1 });

    const version = await fetch(`${guard.url}/streams/${s}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(await version.json()).toEqual({ stream: s, version: 4 });
    const unknown = await fetch(`${guard.url}/streams/nothing_here-1`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(await unknown.json()).toEqual({ stream: 'nothing_here-1', version: -1 });
  });

  it('answers a retry with the same ids from the first write, and refuses reused ids', async () => {
    const s = `account-${randomUUID()}`;
    const events = [deposit(1), deposit(2)];
    const first = await post(guard.url, s, { expectedVersion: 'no_stream', events });
    const again = await post(guard.url, s, { expectedVersion: 'no_stream', events });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ...first.body, duplicate: true });

    const otherContent = await post(guard.url, s, {
      expectedVersion: 'any',
      events: [{ ...events[0], data: { amount: 999, currency: 'EUR', transferId: null } }],
    });
    expect(otherContent.status).toBe(409);
    expect(otherContent.body).toMatchObject({ error: 'event_id_conflict', eventId: events[0]?.id });

    // Ids are checked per partition (docs/guard.md, "The idempotency window"): another stream of the same partition.
    const partitions = Number(setup.config.KES_TOPIC_PARTITIONS);
    let neighbour = `account-${randomUUID()}`;
    while (partitionOf(neighbour, partitions) !== partitionOf(s, partitions)) neighbour = `account-${randomUUID()}`;
    const otherStream = await post(guard.url, neighbour, {
      expectedVersion: 'any',
      events: [events[1]],
    });
    expect(otherStream.body).toMatchObject({ error: 'event_id_conflict', eventId: events[1]?.id });

    const partial = await post(guard.url, s, { expectedVersion: 'any', events: [events[0], deposit()] });
    expect(partial.body).toMatchObject({ error: 'event_id_conflict' });
    expect(await new GuardClient({ url: guard.url, apiKey: API_KEY }).streamVersion(s)).toBe(1);
  });

  it('refuses malformed requests with the offending field, and writes nothing', async () => {
    const s = `account-${randomUUID()}`;
    const cases: [string, unknown, number, string, string][] = [
      ['Bad-Name', { expectedVersion: 'any', events: [deposit()] }, 400, 'invalid_stream_name', 'stream'],
      [s, { events: [deposit()] }, 400, 'missing_field', 'expectedVersion'],
      [s, { expectedVersion: -2, events: [deposit()] }, 400, 'invalid_expected_version', 'expectedVersion'],
      [s, { expectedVersion: 'latest', events: [deposit()] }, 400, 'invalid_expected_version', 'expectedVersion'],
      [s, { expectedVersion: 'any', events: [] }, 400, 'invalid_events', 'events'],
      [
        s,
        { expectedVersion: 'any', events: [{ ...deposit(), id: 'not-a-uuid' }] },
        400,
        'invalid_event_id',
        'events[0].id',
      ],
      [
        s,
        { expectedVersion: 'any', events: [deposit(), { ...deposit(), type: 'Nope' }] },
        400,
        'unknown_event_type',
        'events[1].type',
      ],
      [
        s,
        { expectedVersion: 'any', events: [{ ...deposit(), data: { amount: 'ten', currency: 'EUR' } }] },
        400,
        'schema_mismatch',
        'events[0].data.amount',
      ],
      [
        s,
        { expectedVersion: 'any', events: [{ ...deposit(), colour: 'red' }] },
        400,
        'unknown_field',
        'events[0].colour',
      ],
      [s, '{"expectedVersion": "any", "events": [', 400, 'malformed_body', 'body'],
      [
        s,
        { expectedVersion: 'any', events: [{ ...deposit(), metadata: { note: 'x'.repeat(600) } }] },
        413,
        'too_large',
        'events[0]',
      ],
      [s, { expectedVersion: 'any', events: Array.from({ length: 40 }, () => deposit()) }, 413, 'too_large', 'body'],
    ];
    for (const [stream, body, status, error, path] of cases) {
      const answer = await post(guard.url, stream, body);
      expect({ stream, status: answer.status, error: answer.body.error, path: answer.body.path }).toEqual({
        stream,
        status,
        error,
        path,
      });
      expect(typeof answer.body.message).toBe('string');
    }
    const dupIds = deposit();
    expect((await post(guard.url, s, { expectedVersion: 'any', events: [dupIds, dupIds] })).body.error).toBe(
      'duplicate_event_id',
    );
    expect(await new GuardClient({ url: guard.url, apiKey: API_KEY }).streamVersion(s)).toBe(-1);
  });

  it('needs a key, and lets a service write only its own categories', async () => {
    const body = { expectedVersion: 'any', events: [deposit()] };
    expect((await post(guard.url, 'account-a1', body, {})).status).toBe(401);
    expect((await post(guard.url, 'account-a1', body, { authorization: 'Bearer wrong-key-123' })).status).toBe(401);
    const forbidden = await post(guard.url, 'transfer-t1', body, { authorization: 'Bearer accounts-service-key' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe('forbidden');
    expect((await post(guard.url, 'account-a1', body, { 'x-api-key': 'accounts-service-key' })).status).toBe(200);
    expect(await new GuardClient({ url: guard.url, apiKey: API_KEY }).streamVersion('transfer-t1')).toBe(-1);
  });

  it('never reserves an attempt its client has given up on (kes-attempt-deadline), and refuses a bad one', async () => {
    const s = `account-${randomUUID()}`;
    const body = { expectedVersion: 'no_stream', events: [deposit()] };
    const auth = { authorization: `Bearer ${API_KEY}` };
    const bad = await post(guard.url, s, body, { ...auth, 'kes-attempt-deadline': 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_header', path: 'kes-attempt-deadline' });
    // A client that gave up a moment ago: answered "nothing written", and indeed nothing is.
    const late = await post(guard.url, s, body, { ...auth, 'kes-attempt-deadline': String(Date.now() - 1) });
    expect(late.status).toBe(503);
    expect(late.body.error).toBe('not_ready');
    expect(await new GuardClient({ url: guard.url, apiKey: API_KEY }).streamVersion(s)).toBe(-1);
    // With time to spare it is written as any append.
    const inTime = await post(guard.url, s, body, { ...auth, 'kes-attempt-deadline': String(Date.now() + 5_000) });
    expect(inTime.body).toMatchObject({ stream: s, firstVersion: 0, lastVersion: 0 });
  });

  it('serves health and Prometheus metrics', async () => {
    expect((await fetch(`${guard.url}/health/live`)).status).toBe(200);
    expect(await (await fetch(`${guard.url}/health/ready`)).json()).toEqual({
      status: 'ok',
      checks: { writes: { status: 'ok' } },
    });
    const text = await (await fetch(`${guard.url}/metrics`)).text();
    for (const name of [
      'kes_guard_appends_total{outcome="written"}',
      'kes_guard_appends_total{outcome="conflict"}',
      'kes_guard_append_seconds_bucket',
      'kes_guard_group_commit_appends_bucket',
      'kes_guard_recoveries_total{kind="rebuild"}',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('typed client: WrongExpectedVersionError carries expected and actual', async () => {
    const client = new GuardClient({ url: guard.url, apiKey: API_KEY });
    const s = `account-${randomUUID()}`;
    const written = await client.appendToStream(s, [{ type: 'MoneyDeposited', data: deposit().data }], {
      expectedVersion: 'no_stream',
    });
    expect(written.lastVersion).toBe(0);
    await expect(
      client.appendToStream(s, [{ type: 'MoneyDeposited', data: deposit().data }], { expectedVersion: 5 }),
    ).rejects.toMatchObject({ name: 'WrongExpectedVersionError', stream: s, expected: 5, actual: 0 });
  });
});

describe('guard state: lost, rebuilt, and not ready meanwhile', () => {
  it('after Redis loses the data, rebuilds from Kafka: keeps versions and the idempotency window', async () => {
    const setup = testGuardConfig();
    const guard = await startTestGuard(setup);
    try {
      const s = `account-${randomUUID()}`;
      const events = [deposit(), deposit()];
      const first = await post(guard.url, s, { expectedVersion: 'no_stream', events });
      await post(guard.url, s, { expectedVersion: 1, events: [deposit()] });
      expect(await wipeNamespace(stack().redisUrl, setup.namespace)).toBeGreaterThan(0);

      // The guard notices (generation gone), answers 503 or waits, rebuilds, and then knows the stream again.
      await waitFor(
        'the guard to rebuild',
        async () => (await post(guard.url, s, { expectedVersion: 0, events: [deposit()] })).status === 409,
        30_000,
      );
      const retry = await post(guard.url, s, { expectedVersion: 'no_stream', events });
      expect(retry.body).toMatchObject({ ...first.body, duplicate: true });
      const stale = await post(guard.url, s, { expectedVersion: 1, events: [deposit()] });
      expect(stale.body).toMatchObject({ error: 'wrong_expected_version', actual: 2 });
      expect((await post(guard.url, s, { expectedVersion: 2, events: [deposit()] })).body.lastVersion).toBe(3);
    } finally {
      await guard.close();
    }
  });

  it('answers 503 with Retry-After while it cannot validate its state, and nothing is written', async () => {
    const setup = testGuardConfig();
    const guard = await startTestGuard(setup);
    const redis = new Redis(stack().redisUrl);
    try {
      // Another "guard" holds the rebuild lease while the state is gone: this one must wait.
      await redis.set(`${setup.namespace}:{g}:rebuild`, 'someone-else', 'PX', 60_000);
      await redis.del(`${setup.namespace}:{g}:gen`);
      const s = `account-${randomUUID()}`;
      const answer = await waitFor('503', async () => {
        const a = await post(guard.url, s, { expectedVersion: 'any', events: [deposit()] });
        return a.status === 503 ? a : undefined;
      });
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body).toMatchObject({ error: 'not_ready', retriable: true });
      const ready = await fetch(`${guard.url}/health/ready`);
      expect(ready.status).toBe(503);
      await redis.del(`${setup.namespace}:{g}:rebuild`);
      await guard.whenReady(30_000);
      expect(await new GuardClient({ url: guard.url, apiKey: API_KEY }).streamVersion(s)).toBe(-1);
    } finally {
      redis.disconnect();
      await guard.close();
    }
  });
});
