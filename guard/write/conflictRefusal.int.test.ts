import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import type { RunningGuard } from '../guard.js';
import { KeySpace } from '../protocol/keys.js';
import { defineScripts, lookupId } from '../protocol/redisState.js';

/**
 * Issue 13, item 5: the idempotency window is bounded by memory, and an exact-version retry past it is answered from
 * the log. One partition and a window of 8 events (generations of 2), so that a dozen other appends make the guard
 * forget an append's ids; then its retry conflicts on the version, is read back (conflictRefusal.ts) and answered as
 * a duplicate of the first write. An `any` append has no place to read back: past the window its retry is written
 * again, as docs/guard.md states.
 */
const deposit = () => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount: 1, currency: 'EUR', transferId: null },
});

describe('an exact-version retry after its ids were forgotten', () => {
  const setup = testGuardConfig({ KES_TOPIC_PARTITIONS: '1', KES_IDEMPOTENCY_WINDOW_EVENTS: '8' });
  const keys = new KeySpace(`${setup.namespace}:`);
  let guard: RunningGuard;
  let redis: Redis;

  beforeAll(async () => {
    guard = await startTestGuard(setup);
    redis = new Redis(stack().redisUrl);
    defineScripts(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await guard?.close();
  });

  /** Writes other streams until the window of the (only) partition no longer knows any of `ids`. */
  async function forget(ids: readonly string[]): Promise<void> {
    const pk = keys.partition(`${setup.topicPrefix}account`, 0);
    await waitFor('the ids forgotten by the memory bound', async () => {
      const answer = await post(guard.url, `account-${randomUUID()}`, { expectedVersion: 'any', events: [deposit()] });
      expect(answer.status).toBe(200);
      const known = await Promise.all(ids.map((id) => lookupId(redis, pk, id)));
      return known.every((k) => k === undefined);
    });
  }

  it('is answered from the log as a duplicate; a real conflict stays 409', async () => {
    const stream = `account-${randomUUID()}`;
    const first = { expectedVersion: 'no_stream' as const, events: [deposit(), deposit()] };
    const written = await post(guard.url, stream, first);
    expect(written.status).toBe(200);
    const next = { expectedVersion: 1, events: [deposit()] };
    const writtenNext = await post(guard.url, stream, next);
    expect(writtenNext.body).toMatchObject({ firstVersion: 2, lastVersion: 2 });
    await forget([...first.events, ...next.events].map((e) => e.id));

    // both retries conflict on the version, and the log shows their events right after the version they expected
    const retry = await post(guard.url, stream, first);
    expect([retry.status, retry.body]).toEqual([200, { ...written.body, duplicate: true }]);
    const retryNext = await post(guard.url, stream, next);
    expect([retryNext.status, retryNext.body]).toEqual([200, { ...writtenNext.body, duplicate: true }]);

    // other events, or the same ids in part, or the same ids with other content: the conflict stands
    for (const events of [
      [deposit()],
      [first.events[0], deposit()],
      [first.events[0], { ...first.events[1], data: { amount: 2, currency: 'EUR', transferId: null } }],
    ]) {
      const refused = await post(guard.url, stream, { expectedVersion: 'no_stream', events });
      expect([refused.status, refused.body]).toMatchObject([409, { error: 'wrong_expected_version', actual: 2 }]);
    }
  });

  it('an `any` append past the window is written again (documented: only the window covers it)', async () => {
    const stream = `account-${randomUUID()}`;
    const body = { expectedVersion: 'any' as const, events: [deposit()] };
    const written = await post(guard.url, stream, body);
    expect(written.body).toMatchObject({ firstVersion: 0 });
    // within the window, a retry is a duplicate
    expect((await post(guard.url, stream, body)).body).toEqual({ ...written.body, duplicate: true });
    await forget(body.events.map((e) => e.id));
    const again = await post(guard.url, stream, body);
    expect([again.status, again.body.firstVersion, again.body.duplicate]).toEqual([200, 1, undefined]);
  });
});
