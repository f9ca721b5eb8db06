import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { modules as bankModules } from '../../example/modules.js';
import { setFailpoints } from '../../pipeline/faults/failpoints.js';
import { API_KEY, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { OpenApiContract } from '../../test/support/openApiContract.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import { ATTEMPT_DEADLINE_HEADER } from '../append/attemptDeadline.js';
import type { CommandModule } from '../commands/decider.js';
import type { RunningGuard } from '../guard.js';

/**
 * The guard's OpenAPI document against a real guard on the real stack: every documented status of every route is
 * provoked, and each answer's body is checked against the schema documented for it. A route without documented
 * answers, or a documented status that no step below provokes, fails the test.
 */
const OTHER_KEY = 'payments-service-key';

/** A module that fails: decide throws, evolve throws, so that the 500 module_failed answers are real. */
const broken: CommandModule = {
  category: 'broken',
  service: 'test',
  stateVersion: 1,
  commands: { boom: z.strictObject({}) },
  initialState: () => ({}),
  evolve: () => {
    throw new Error('evolve is broken');
  },
  decide: () => {
    throw new Error('decide is broken');
  },
};

const deposit = () => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount: 100, currency: 'EUR', transferId: null },
});

describe('the guard answers as its OpenAPI document says', () => {
  const setup = testGuardConfig({
    KES_API_KEYS: JSON.stringify([
      { key: API_KEY, service: 'local-dev', categories: ['*'] },
      { key: OTHER_KEY, service: 'payments', categories: ['payment'] },
    ]),
    KES_MAX_BODY_BYTES: '2048',
  });
  let guard: RunningGuard;
  let contract: OpenApiContract;

  beforeAll(async () => {
    guard = await startTestGuard(setup, { modules: [...bankModules, broken] });
    contract = await OpenApiContract.load(guard.url);
  });
  afterAll(async () => {
    await guard?.close();
  });

  const json = (key: string | undefined, body: unknown) => ({
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  const auth = (key = API_KEY) => ({ headers: { authorization: `Bearer ${key}` } });

  it('documents every route, and every documented status is a real answer of its shape', async () => {
    const call = (method: string, path: string, concrete: string, init?: Parameters<OpenApiContract['call']>[4]) =>
      contract.call(guard.url, method, path, concrete, init);
    const APPEND = '/streams/{stream}/events';
    const VERSION = '/streams/{stream}';
    const COMMAND = '/commands/{category}/{id}';
    const s = `account-${randomUUID()}`;
    const id = randomUUID();

    // Appends.
    const ok = await call(
      'POST',
      APPEND,
      `/streams/${s}/events`,
      json(API_KEY, { expectedVersion: 'no_stream', events: [deposit()] }),
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBeTruthy();
    expect((await call('POST', APPEND, `/streams/${s}/events`, json(API_KEY, { expectedVersion: 0 }))).status).toBe(
      400,
    );
    expect(
      (await call('POST', APPEND, `/streams/${s}/events`, json(undefined, { expectedVersion: 0, events: [deposit()] })))
        .status,
    ).toBe(401);
    expect(
      (await call('POST', APPEND, `/streams/${s}/events`, json(OTHER_KEY, { expectedVersion: 0, events: [deposit()] })))
        .status,
    ).toBe(403);
    expect(
      (await call('POST', APPEND, `/streams/${s}/events`, json(API_KEY, { expectedVersion: 5, events: [deposit()] })))
        .status,
    ).toBe(409);
    const big = { expectedVersion: 0, events: Array.from({ length: 30 }, deposit) };
    expect((await call('POST', APPEND, `/streams/${s}/events`, json(API_KEY, big))).status).toBe(413);
    const plain = { headers: { 'content-type': 'application/xml', ...auth().headers }, body: '<hello/>' };
    expect((await call('POST', APPEND, `/streams/${s}/events`, plain)).status).toBe(415);

    // The stream's version.
    const BATCH = '/appends';
    const item = (stream: string, expectedVersion: unknown = 'any') => ({
      stream,
      expectedVersion,
      events: [deposit()],
    });
    const batch = (key: string | undefined, body: unknown) => call('POST', BATCH, BATCH, json(key, body));
    expect((await batch(API_KEY, { appends: [item(s), item(`account-${randomUUID()}`, 3)] })).status).toBe(200);
    expect((await batch(API_KEY, { appends: [] })).status).toBe(400);
    expect((await batch(API_KEY, { atomic: true, appends: [item(s), { stream: s }] })).status).toBe(400);
    expect((await batch(undefined, { appends: [item(s)] })).status).toBe(401);
    expect((await batch(OTHER_KEY, { atomic: true, appends: [item(`payment-${id}`), item(s)] })).status).toBe(403);
    expect((await batch(API_KEY, { atomic: true, appends: [item(s, 0), item(`account-${id}`)] })).status).toBe(409);
    const bigBatch = { appends: Array.from({ length: 30 }, () => item(s)) };
    expect((await batch(API_KEY, bigBatch)).status).toBe(413);
    expect((await call('POST', BATCH, BATCH, plain)).status).toBe(415);

    expect((await call('GET', VERSION, `/streams/${s}`, auth())).status).toBe(200);
    expect((await call('GET', VERSION, '/streams/no_category_here', auth())).status).toBe(400);
    expect((await call('GET', VERSION, `/streams/${s}`, {})).status).toBe(401);

    // Reading a stream (once the route documents its answers).
    const READ = '/streams/{stream}/events';
    const reads = contract.documents('GET', READ);
    if (reads) {
      expect((await call('GET', READ, `/streams/${s}/events?limit=10`, auth())).status).toBe(200);
      expect((await call('GET', READ, `/streams/${s}/events?limit=x`, auth())).status).toBe(400);
      expect((await call('GET', READ, `/streams/${s}/events`, {})).status).toBe(401);
      expect((await call('GET', READ, `/streams/${s}/events`, auth(OTHER_KEY))).status).toBe(403);
    }

    // Commands.
    const open = { type: 'open', data: { owner: 'ada', currency: 'EUR' } };
    expect((await call('POST', COMMAND, `/commands/account/${id}`, json(API_KEY, open))).status).toBe(200);
    expect(
      (await call('POST', COMMAND, `/commands/account/${id}`, json(API_KEY, { type: 'open', data: { owner: 1 } })))
        .status,
    ).toBe(400);
    expect((await call('POST', COMMAND, `/commands/account/${id}`, json(undefined, open))).status).toBe(401);
    expect((await call('POST', COMMAND, `/commands/account/${id}`, json(OTHER_KEY, open))).status).toBe(403);
    const stale = { type: 'deposit', data: { amount: 5, currency: 'EUR' }, expectedVersion: 7 };
    expect((await call('POST', COMMAND, `/commands/account/${id}`, json(API_KEY, stale))).status).toBe(409);
    const huge = { type: 'close', data: { reason: 'x'.repeat(3000) } };
    expect((await call('POST', COMMAND, `/commands/account/${id}`, json(API_KEY, huge))).status).toBe(413);
    expect((await call('POST', COMMAND, `/commands/account/${id}`, plain)).status).toBe(415);
    const unopened = { type: 'deposit', data: { amount: 5, currency: 'EUR' } };
    expect((await call('POST', COMMAND, `/commands/account/${randomUUID()}`, json(API_KEY, unopened))).status).toBe(
      422,
    );
    expect(
      (await call('POST', COMMAND, `/commands/broken/${id}`, json(API_KEY, { type: 'boom', data: {} }))).status,
    ).toBe(500);

    // Command states.
    const COMMANDS = '/commands';
    const commands = (key: string | undefined, body: unknown) => call('POST', COMMANDS, COMMANDS, json(key, body));
    const deposit5 = { category: 'account', id, type: 'deposit', data: { amount: 5, currency: 'EUR' } };
    expect((await commands(API_KEY, { commands: [deposit5, { ...deposit5, data: { amount: 'x' } }] })).status).toBe(
      200,
    );
    expect((await commands(API_KEY, { commands: [] })).status).toBe(400);
    expect((await commands(undefined, { commands: [deposit5] })).status).toBe(401);
    const hugeBatch = { commands: [{ ...deposit5, type: 'close', data: { reason: 'x'.repeat(3000) } }] };
    expect((await commands(API_KEY, hugeBatch)).status).toBe(413);
    expect((await call('POST', COMMANDS, COMMANDS, plain)).status).toBe(415);

    expect((await call('GET', COMMAND, `/commands/account/${id}`, auth())).status).toBe(200);
    expect((await call('GET', COMMAND, `/commands/nobody/${id}`, auth())).status).toBe(400);
    expect((await call('GET', COMMAND, `/commands/account/${id}`, {})).status).toBe(401);
    expect((await call('GET', COMMAND, `/commands/account/${id}`, auth(OTHER_KEY))).status).toBe(403);
    // An event the broken module's evolve throws on: folding its stream is a 500.
    await call(
      'POST',
      APPEND,
      `/streams/broken-${id}/events`,
      json(API_KEY, { expectedVersion: 'any', events: [deposit()] }),
    );
    expect((await call('GET', COMMAND, `/commands/broken/${id}`, auth())).status).toBe(500);

    // Hosted modules, probes, metrics.
    expect((await call('GET', '/commands', '/commands', auth())).status).toBe(200);
    expect((await call('GET', '/commands', '/commands', {})).status).toBe(401);
    expect((await call('GET', '/health/live', '/health/live')).status).toBe(200);
    const ready = await call('GET', '/health/ready', '/health/ready');
    expect(ready.body).toEqual({ status: 'ok', checks: { writes: { status: 'ok' } } });
    const metrics = await call('GET', '/metrics', '/metrics');
    expect(metrics.body).toContain('kes_guard_appends_total');
    expect(metrics.body).toContain('process_cpu_user_seconds_total');

    // 503: the state is gone and another guard holds the rebuild lease, so this one cannot validate its state.
    const redis = new Redis(stack().redisUrl);
    try {
      await redis.set(`${setup.namespace}:{g}:rebuild`, 'someone-else', 'PX', 60_000);
      await redis.del(`${setup.namespace}:{g}:gen`);
      await waitFor('not ready', async () => (await fetch(`${guard.url}/health/ready`)).status === 503);
      const degraded = await call('GET', '/health/ready', '/health/ready');
      expect(degraded.body).toMatchObject({ status: 'degraded', checks: { writes: { status: 'degraded' } } });
      expect(degraded.headers.get('retry-after')).toBe('1');
      expect(
        (
          await call(
            'POST',
            APPEND,
            `/streams/${s}/events`,
            json(API_KEY, { expectedVersion: 'any', events: [deposit()] }),
          )
        ).status,
      ).toBe(503);
      expect((await batch(API_KEY, { appends: [item(s)] })).status).toBe(503);
      expect((await call('GET', VERSION, `/streams/${s}`, auth())).status).toBe(503);
      if (reads) expect((await call('GET', READ, `/streams/${s}/events`, auth())).status).toBe(503);
      expect((await call('POST', COMMAND, `/commands/account/${id}`, json(API_KEY, unopened))).status).toBe(503);
      expect((await call('GET', COMMAND, `/commands/account/${id}`, auth())).status).toBe(503);
      expect((await commands(API_KEY, { commands: [deposit5] })).status).toBe(200);
      await redis.del(`${setup.namespace}:{g}:rebuild`);
      await guard.whenReady(30_000);
    } finally {
      redis.disconnect();
    }

    // 500 outcome_unknown: every commit call fails once asked for (failpoint fail@in-commit), so each attempt's
    // outcome is unknown until the guard takes its slot's epoch again and reads Kafka; it retries, and the append's
    // deadline (the client's kes-attempt-deadline) passes with the outcome of its last attempt still unknown.
    setFailpoints('fail@in-commit:1');
    try {
      const unknown = await call('POST', APPEND, `/streams/account-${randomUUID()}/events`, {
        headers: {
          ...json(API_KEY, {}).headers,
          [ATTEMPT_DEADLINE_HEADER]: String(Date.now() + 5_000),
        },
        body: JSON.stringify({ expectedVersion: 'any', events: [deposit()] }),
      });
      expect(unknown.status).toBe(500);
      expect(unknown.body).toMatchObject({ error: 'outcome_unknown', retriable: true });
      setFailpoints('fail@in-commit:1');
      const atomicUnknown = await call('POST', BATCH, BATCH, {
        headers: { ...json(API_KEY, {}).headers, [ATTEMPT_DEADLINE_HEADER]: String(Date.now() + 5_000) },
        body: JSON.stringify({
          atomic: true,
          appends: [item(`account-${randomUUID()}`), item(`account-${randomUUID()}`)],
        }),
      });
      expect(atomicUnknown.status).toBe(500);
      // answered as one: every item has the outcome unknown, none was aborted for another's sake
      const unknownResults = (atomicUnknown.body as { results: { error: string }[] }).results;
      expect(unknownResults.map((r) => r.error)).toEqual(['outcome_unknown', 'outcome_unknown']);
    } finally {
      setFailpoints('');
    }
    // Disarmed, the guard writes again.
    const after = await call(
      'POST',
      APPEND,
      `/streams/${s}/events`,
      json(API_KEY, { expectedVersion: 'any', events: [deposit()] }),
    );
    expect(after.status).toBe(200);

    expect(contract.uncovered()).toEqual([]);
    expect(contract.undocumented()).toEqual([]);
  }, 120_000);
});
