import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccountState, accountModule } from '../../example/accounts/account.js';
import { EXAMPLE_MODULES } from '../../example/modules.js';
import { CommandRejectedError } from '../../pipeline/errors.js';
import { decodeHeaders } from '../../pipeline/events/eventRecord.js';
import { readCommitted } from '../../pipeline/kafka/committedReader.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { API_KEY, post, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { CommandClient } from '../client/commandClient.js';
import type { RunningGuard } from '../guard.js';
import { commandEventId } from './commandRequest.js';
import { anyModule, fold } from './decider.js';
import { readStreamEvents } from './streamEvents.js';

/**
 * Commands on a real guard (Kafka, registry, Redis): every answer of POST /commands, the compare-and-swap making a
 * stale decision impossible, the state cache behind or lost, and many concurrent withdrawals on one account.
 */
const TELLER = 'teller-key-000';
const TRANSFERS = 'transfers-key-000';

async function command(
  url: string,
  path: string,
  body: unknown,
  key = TELLER,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/commands/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...extraHeaders },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('commands', () => {
  // Generous attempts: the concurrency test puts 40 writers on one stream and wants every one decided.
  const setup = testGuardConfig({
    KES_API_KEYS: JSON.stringify([
      { key: API_KEY, service: 'local-dev', categories: ['*'] },
      { key: TELLER, service: 'teller', categories: ['none'], commands: ['account', 'transfer'] },
      { key: TRANSFERS, service: 'transfers', categories: ['transfer'], commands: ['account'] },
    ]),
    KES_COMMAND_MAX_ATTEMPTS: '60',
  });
  let guard: RunningGuard;
  /** A second guard on the same Redis and Kafka: another process deciding on the same streams. */
  let other: RunningGuard;
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  let redis: Redis;
  const kafka = createKafka(setup.config, 'commands-test');
  const watermarks = new HighWatermarks(kafka);

  /** The account as the log says: every event of the stream read back from Kafka and folded. */
  async function fromLog(id: string): Promise<{ version: number; state: AccountState }> {
    const stream = `account-${id}`;
    const at = await guard.service.locate({ stream, category: 'account', id });
    const catalog = await openEventCatalog({
      registryUrl: setup.config.SCHEMA_REGISTRY_URL,
      dir: setup.config.KES_SCHEMAS_DIR,
    });
    const events = await readStreamEvents(kafka, watermarks, catalog, {
      topic: at.topic,
      partition: at.partition as number,
      stream,
      fromOffset: 0,
      afterVersion: -1,
      untilVersion: at.version,
    });
    return { version: at.version, state: fold(accountModule, accountModule.initialState(), events as never) };
  }

  /** Every committed record of a stream, in offset order: its version, event id and offset. */
  async function streamLog(stream: string): Promise<{ version: number; id: string; offset: number }[]> {
    const at = await guard.service.locate({ stream, category: 'account', id: stream.slice('account-'.length) });
    const until = (await watermarks.of(at.topic)).get(at.partition as number) ?? 0;
    const found: { version: number; id: string; offset: number }[] = [];
    await readCommitted(
      kafka,
      [{ topic: at.topic, partition: at.partition as number, from: 0, until }],
      ({ messages }) => {
        for (const m of messages) {
          const headers = decodeHeaders(m.headers);
          if (headers?.stream === stream)
            found.push({ version: headers.version, id: headers.eventId, offset: Number(m.offset) });
        }
      },
    );
    return found;
  }

  beforeAll(async () => {
    guard = await startTestGuard(setup, {
      modules: EXAMPLE_MODULES,
      // The test holds one chosen decision between decide and append (see "a stale decision").
      commandHooks: { afterDecide: async (stream) => (stream.endsWith('-held') ? held : undefined) },
    });
    other = await startTestGuard(setup, { modules: EXAMPLE_MODULES });
    redis = new Redis(setup.config.REDIS_URL);
  });
  afterAll(async () => {
    release?.();
    redis?.disconnect();
    await watermarks.close();
    await other?.close();
    await guard?.close();
  });

  it('runs a command: decide on the stream state, append, answer versions and position', async () => {
    const id = randomUUID();
    const opened = await command(guard.url, `account/${id}`, { type: 'open', data: { owner: 'ada', currency: 'EUR' } });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ stream: `account-${id}`, command: 'open', version: 0, attempts: 1 });
    expect((opened.body.events as { type: string }[]).map((e) => e.type)).toEqual(['AccountOpened']);
    const deposited = await command(guard.url, `account/${id}`, {
      type: 'deposit',
      data: { amount: 500, currency: 'EUR' },
      expectedVersion: 0,
    });
    expect(deposited.status).toBe(200);
    expect(deposited.body).toMatchObject({ version: 1, position: { topic: `${setup.topicPrefix}account` } });
    const log = await fromLog(id);
    expect(log).toMatchObject({ version: 1, state: { status: 'open', owner: 'ada', balance: 500, currency: 'EUR' } });
  });

  it("writes a command request's traceparent to the events it decides, and refuses a malformed one", async () => {
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const id = randomUUID();
    const opened = await command(
      guard.url,
      `account/${id}`,
      { type: 'open', data: { owner: 'tia', currency: 'EUR' } },
      TELLER,
      { traceparent: trace },
    );
    expect(opened.status).toBe(200);
    const { topic, partition, offset } = opened.body.position as { topic: string; partition: number; offset: number };
    const headers: (string | undefined)[] = [];
    await readCommitted(kafka, [{ topic, partition, from: offset, until: offset + 1 }], ({ messages }) => {
      for (const m of messages) headers.push(m.headers?.traceparent?.toString());
    });
    expect(headers).toEqual([trace]);
    const bad = await command(
      guard.url,
      `account/${id}`,
      { type: 'deposit', data: { amount: 1, currency: 'EUR' } },
      TELLER,
      {
        traceparent: 'nope',
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_header', path: 'traceparent' });
  });

  it('answers 422 with the module code when a business rule refuses, 400 with the field path, and writes nothing', async () => {
    const id = randomUUID();
    await command(guard.url, `account/${id}`, { type: 'open', data: { owner: 'bob', currency: 'EUR' } });
    const overdraw = await command(guard.url, `account/${id}`, {
      type: 'withdraw',
      data: { amount: 1, currency: 'EUR' },
    });
    expect(overdraw.status).toBe(422);
    expect(overdraw.body).toMatchObject({ error: 'command_rejected', code: 'insufficient_funds', version: 0 });
    const currency = await command(guard.url, `account/${id}`, {
      type: 'deposit',
      data: { amount: 5, currency: 'USD' },
    });
    expect(currency.body).toMatchObject({ code: 'currency_mismatch' });
    const cases: [unknown, string, string][] = [
      [{ type: 'deposit', data: { amount: -5, currency: 'EUR' } }, 'invalid_command', 'data.amount'],
      [{ type: 'deposit', data: { amount: 1.5, currency: 'EUR' } }, 'invalid_command', 'data.amount'],
      [{ type: 'deposit', data: { amount: 5, currency: 'euro' } }, 'invalid_command', 'data.currency'],
      [{ type: 'deposit', data: { amount: 5, currency: 'EUR', extra: 1 } }, 'invalid_command', 'data'],
      [{ type: 'teleport', data: {} }, 'unknown_command', 'type'],
      [{ data: {} }, 'missing_field', 'type'],
      [{ type: 'close', data: {}, expectedVersion: 'x' }, 'invalid_expected_version', 'expectedVersion'],
      [{ type: 'close', data: {}, commandId: 'a b' }, 'invalid_command_id', 'commandId'],
      [{ type: 'close', data: {}, color: 'red' }, 'unknown_field', 'color'],
    ];
    for (const [body, error, path] of cases) {
      const answer = await command(guard.url, `account/${id}`, body);
      expect({ status: answer.status, error: answer.body.error, path: answer.body.path }).toEqual({
        status: 400,
        error,
        path,
      });
    }
    expect((await fromLog(id)).version).toBe(0);
    const unknown = await command(guard.url, `invoice/${id}`, { type: 'x', data: {} });
    expect(unknown.body).toMatchObject({ error: 'unknown_category', path: 'category' });
    const badId = await command(guard.url, 'account/a%20b', { type: 'close', data: {} });
    expect(badId.body).toMatchObject({ error: 'invalid_stream_name', path: 'stream' });
  });

  it('keeps each service to its authority: commands where its key allows, raw appends only to its own categories', async () => {
    const id = randomUUID();
    expect(
      (await command(guard.url, `account/${id}`, { type: 'open', data: { owner: 'c', currency: 'EUR' } }, TRANSFERS))
        .status,
    ).toBe(200);
    const rawAppend = await post(
      guard.url,
      `account-${id}`,
      {
        expectedVersion: 'any',
        events: [{ id: randomUUID(), type: 'MoneyDeposited', data: { amount: 1, currency: 'EUR', transferId: null } }],
      },
      { authorization: `Bearer ${TRANSFERS}` },
    );
    expect(rawAppend.status).toBe(403);
    const noCommands = await command(guard.url, `invoice/${id}`, { type: 'x', data: {} }, 'unknown-key-000');
    expect(noCommands.status).toBe(401);
    const keys = JSON.parse(setup.config.KES_API_KEYS) as unknown[];
    expect(keys.length).toBe(3);
  });

  it('answers 409 at once when the stream is not at the expected version', async () => {
    const id = randomUUID();
    await command(guard.url, `account/${id}`, { type: 'open', data: { owner: 'd', currency: 'EUR' } });
    const answer = await command(guard.url, `account/${id}`, {
      type: 'deposit',
      data: { amount: 5, currency: 'EUR' },
      expectedVersion: 3,
    });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: 'wrong_expected_version', expected: 3, actual: 0 });
  });

  it('a stale decision is never written: the held withdrawal conflicts, reloads, and is refused on the new state', async () => {
    const id = `${randomUUID()}-held`;
    await guard.handleCommand(anyModule(accountModule), id, { type: 'open', data: { owner: 'e', currency: 'EUR' } });
    await guard.handleCommand(anyModule(accountModule), id, {
      type: 'deposit',
      data: { amount: 100, currency: 'EUR' },
    });
    held = new Promise((resolve) => {
      release = resolve;
    });
    // The first withdrawal decides on balance 100 and is held; the second (another guard) decides on 100 too and is
    // written.
    const first = guard.handleCommand(anyModule(accountModule), id, {
      type: 'withdraw',
      data: { amount: 70, currency: 'EUR' },
    });
    const firstOutcome = first.then(
      (result) => ({ ok: result }),
      (error: unknown) => ({ error }),
    );
    const conflictsBefore = await conflicts(guard);
    await new Promise((r) => setTimeout(r, 50));
    held = undefined; // the first's retry passes the hook
    // The second withdrawal is decided by another guard (this guard runs one command per stream at a time).
    const second = await other.handleCommand(anyModule(accountModule), id, {
      type: 'withdraw',
      data: { amount: 70, currency: 'EUR' },
    });
    expect(second).toMatchObject({ version: 2, attempts: 1 });
    release?.();
    const outcome = await firstOutcome;
    // Its decision (balance 100 - 70) was made on version 1; the stream is at 2 now: the compare-and-swap refuses
    // it, the handler reloads (balance 30) and decides again: insufficient funds.
    expect(outcome).toMatchObject({ error: expect.any(CommandRejectedError) });
    expect((outcome as { error: CommandRejectedError }).error.reason).toBe('insufficient_funds');
    expect(await conflicts(guard)).toBeGreaterThan(conflictsBefore);
    expect(await fromLog(id)).toMatchObject({ version: 2, state: { balance: 30 } });
  });

  it('decides on the log when the cached state is behind (a raw append) or lost (Redis keys deleted)', async () => {
    const id = randomUUID();
    const client = new CommandClient({ url: guard.url, apiKey: TELLER });
    await client.send('account', id, 'open', { owner: 'f', currency: 'EUR' });
    await client.send('account', id, 'deposit', { amount: 100, currency: 'EUR' });
    // Another writer appends without a command: the cached state (version 1) is now behind the stream (version 2).
    const raw = await post(guard.url, `account-${id}`, {
      expectedVersion: 1,
      events: [{ id: randomUUID(), type: 'MoneyWithdrawn', data: { amount: 100, currency: 'EUR', transferId: null } }],
    });
    expect(raw.status).toBe(200);
    await expect(client.send('account', id, 'withdraw', { amount: 50, currency: 'EUR' })).rejects.toMatchObject({
      reason: 'insufficient_funds',
    });
    await client.send('account', id, 'deposit', { amount: 80, currency: 'EUR' });
    const cacheKeys = await redis.keys(`${setup.namespace}:cmd:account:*${id}`);
    expect(cacheKeys.length).toBe(1);
    await redis.del(...cacheKeys);
    await expect(client.send('account', id, 'withdraw', { amount: 81, currency: 'EUR' })).rejects.toMatchObject({
      reason: 'insufficient_funds',
    });
    expect(await client.send('account', id, 'withdraw', { amount: 80, currency: 'EUR' })).toMatchObject({ version: 4 });
    expect(await fromLog(id)).toMatchObject({ version: 4, state: { balance: 0 } });
  });

  it('the same command id applies once, however often it is sent', async () => {
    const id = randomUUID();
    const client = new CommandClient({ url: guard.url, apiKey: TELLER });
    await client.send('account', id, 'open', { owner: 'g', currency: 'EUR' });
    const once = await client.send('account', id, 'deposit', { amount: 40, currency: 'EUR' }, { commandId: 'pay-1' });
    const again = await client.send('account', id, 'deposit', { amount: 40, currency: 'EUR' }, { commandId: 'pay-1' });
    expect(once).toMatchObject({ version: 1 });
    expect(again).toMatchObject({ version: 1, duplicate: true, events: [] });
    expect(await fromLog(id)).toMatchObject({ version: 1, state: { balance: 40 } });
  });

  it('a command id whose ids were reserved by an append that ended without writing is applied, not blocked', async () => {
    const id = randomUUID();
    const client = new CommandClient({ url: guard.url, apiKey: TELLER, maxAttempts: 2 });
    await client.send('account', id, 'open', { owner: 'i', currency: 'EUR' });
    // What a guard killed mid-append can leave behind once its reservation is rolled back: the in-flight mark.
    const eventId = commandEventId(`account-${id}`, 'pay-9', 0);
    await redis.hset(`${setup.namespace}:{g}:ids`, eventId, `~${setup.namespace}:{x:0}:res|gone.1|account-${id}|h`);
    expect(
      await client.send('account', id, 'deposit', { amount: 9, currency: 'EUR' }, { commandId: 'pay-9' }),
    ).toMatchObject({
      version: 1,
      events: [{ id: eventId }],
    });
  });

  it('concurrent withdrawals on one account, through two guards, never overdraw it', async () => {
    const id = randomUUID();
    const client = new CommandClient({ url: guard.url, apiKey: TELLER });
    const clients = [client, new CommandClient({ url: other.url, apiKey: TELLER })];
    await client.send('account', id, 'open', { owner: 'h', currency: 'EUR' });
    await client.send('account', id, 'deposit', { amount: 1000, currency: 'EUR' });
    const conflictsBefore = (await conflicts(guard)) + (await conflicts(other));
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (clients[i % 2] as CommandClient).send('account', id, 'withdraw', { amount: 100, currency: 'EUR' }).then(
          (r) => ({ ok: r.attempts }),
          (e: unknown) => ({ rejected: (e as CommandRejectedError).reason }),
        ),
      ),
    );
    const accepted = answers.filter((a) => 'ok' in a).length;
    expect(accepted).toBe(10);
    expect(answers.filter((a) => 'rejected' in a && a.rejected === 'insufficient_funds').length).toBe(30);
    // The two guards' writers really collided (each guard runs one command per stream at a time).
    expect((await conflicts(guard)) + (await conflicts(other))).toBeGreaterThan(conflictsBefore);
    const log = await fromLog(id);
    expect(log).toMatchObject({ version: 11, state: { balance: 0 } });
  });

  it('many concurrent commands on one hot stream, through two guards, are decided together and each written once', async () => {
    const id = randomUUID();
    const stream = `account-${id}`;
    const clients = [guard.url, other.url].map((url) => new CommandClient({ url, apiKey: TELLER }));
    const via = (i: number) => clients[i % 2] as CommandClient;
    await via(0).send('account', id, 'open', { owner: 'k', currency: 'EUR' });
    const setsBefore = await setSizes(guard);
    // Two deposits of 10 for each withdrawal of 25: the balance runs dry again and again, so some are refused.
    const send = (i: number, guardIndex = i) => {
      const withdraw = i % 3 === 2;
      return via(guardIndex)
        .send(
          'account',
          id,
          withdraw ? 'withdraw' : 'deposit',
          { amount: withdraw ? 25 : 10, currency: 'EUR' },
          {
            commandId: `hot-${i}`,
          },
        )
        .then(
          (ok) => ({ i, ok }),
          (error: unknown) => ({ i, error }),
        );
    };
    const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => send(i)));
    const written = answers.flatMap((a) => ('ok' in a ? [a] : []));
    const refused = answers.flatMap((a) => ('error' in a ? [a] : []));
    for (const r of refused) expect((r.error as CommandRejectedError).reason).toBe('insufficient_funds');
    expect(written.length).toBeGreaterThan(60);
    expect(refused.length).toBeGreaterThan(0);
    const after = await setSizes(guard);
    // Some sets held more than one command (the metric sums their sizes).
    expect(after.sum - setsBefore.sum).toBeGreaterThan(after.count - setsBefore.count);

    const log = await streamLog(stream);
    // Invariant 1: versions 0..n-1 in offset order; every acknowledged command's events there once, where it was told.
    expect(log.map((e) => e.version)).toEqual(log.map((_, v) => v));
    const byId = new Map(log.map((e) => [e.id, e]));
    expect(byId.size).toBe(log.length);
    expect(log.length).toBe(1 + written.reduce((n, w) => n + w.ok.events.length, 0));
    for (const { i, ok } of written) {
      expect(ok.events).toHaveLength(1);
      const event = ok.events[0] as { id: string; version: number };
      expect(event.id).toBe(commandEventId(stream, `hot-${i}`, 0));
      expect(byId.get(event.id)).toMatchObject({ version: event.version, offset: ok.position?.offset });
      expect(ok.version).toBe(event.version);
    }
    // Invariant 3: a refused command wrote nothing.
    for (const { i } of refused) expect(byId.has(commandEventId(stream, `hot-${i}`, 0))).toBe(false);
    const state = await fromLog(id);
    expect(state.state.balance).toBe(written.reduce((sum, w) => sum + (w.ok.command === 'deposit' ? 10 : -25), 0));

    // Retries of written commands, sent to the other guard together with new commands on the same stream: the
    // retries are answered as duplicates from their first write, the new ones are written after them.
    const retried = written.slice(0, 10);
    const again = await Promise.all([
      ...retried.map((w) => send(w.i, w.i + 1)),
      ...Array.from({ length: 6 }, (_, k) => send(3 * (100 + k), 0)),
    ]);
    for (const [k, w] of retried.entries()) {
      expect(again[k]).toMatchObject({ ok: { duplicate: true, version: w.ok.version, events: [] } });
    }
    const fresh = again.slice(retried.length);
    for (const f of fresh) expect(f).toMatchObject({ ok: { attempts: expect.any(Number) } });
    const longer = await streamLog(stream);
    expect(longer.map((e) => e.version)).toEqual(longer.map((_, v) => v));
    expect(longer.length).toBe(log.length + fresh.length);
  });
});

async function setSizes(guard: RunningGuard): Promise<{ sum: number; count: number }> {
  const metric = await guard.metrics.commandsTogether.get();
  const of = (name: string) => metric.values.filter((v) => v.metricName === name).reduce((sum, v) => sum + v.value, 0);
  return { sum: of('kes_guard_commands_together_sum'), count: of('kes_guard_commands_together_count') };
}

async function conflicts(guard: RunningGuard): Promise<number> {
  const metric = await guard.metrics.commandConflicts.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}
