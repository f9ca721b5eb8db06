import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { AppendIndeterminateError } from '../../pipeline/errors.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { freePort } from '../../test/support/freePort.js';
import { GuardProcess } from '../../test/support/guardProcess.js';
import { HoldingProxy } from '../../test/support/holdingProxy.js';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import type { AppendAttempt } from '../../verify/history/history.js';
import { runCheck } from '../../verify/history/report.js';
import { readCommittedEvents } from '../../verify/history/topicContents.js';
import { toHistory } from '../../verify/load/workload.js';
import { type AttemptReport, GuardClient, type NewEvent } from '../client/guardClient.js';

/**
 * Issue 12, end to end: an attempt its client gave up on, and a refusal decided on unsettled state.
 *
 * Two guard processes on the same streams. Guard A sits behind a proxy that holds the first append until the test
 * releases it (a request stuck in a network queue); guard B's transactions fail after the send (failpoint
 * `fail@after-send`, as a broker that drops the connection does), and it groups appends for 1 s so that two
 * appends of one stream share its group. Then, on an empty stream:
 *
 *   1. w1 appends E1 (expecting no_stream) through the proxy to A; the proxy holds it; w1 gives up at its timeout.
 *   2. w2 appends E2 (expecting no_stream) to B; once B has it queued, w1 retries E1, same id, through B: both in
 *      B's group, w2's first. w2's reserves version 0; w1's would conflict with that reservation only.
 *   3. B's transaction fails after the send; the reservation is released.
 *   4. Once w1's retries are answered, the proxy lets the first attempt through to A.
 *
 * What must hold: w1 never gets a definite refusal (409) for E1 while E1 is, or later gets, written; the abandoned
 * first attempt is never written after w1's retry was answered; the history checker finds nothing.
 *
 * Before the fix (in a worktree with the reserve script of c8ee040 and the guard's deadline check reverted, the rest
 * as here) it failed on the checker, 8 runs of 8: w1's retry was answered 409 (actual 0) against w2's reservation,
 * which B's failed transaction then released, and the first attempt, let through to A afterwards, was written at
 * version 0:
 *   invariant 3: append to account-… by w1 (attempt 2, expected no_stream) answered conflict (actual 0), but its
 *   events were written after the refusal, by an abandoned attempt: append to account-… by w1 (attempt 1, expected
 *   no_stream) (indeterminate, given up 73 ms before the retry began) committed them 295 ms after the refusal was
 *   answered (… at ….account[1]@4)
 *   invariant 6: … answered conflict (actual 0), but version 0 was written 295 ms after the refusal was answered
 *   (…): the refusal was decided on a reservation, not on committed state
 * With only the reserve script reverted it failed 3 of 3 on invariant 6 (w1 told 409 about a version 0 nobody ever
 * wrote: "version 0 of the stream was never committed"; the deadline kept the first attempt out, A answered it 503).
 * With only the deadline check reverted it failed 2 of 2 on the answers, not the checker: B held w1's retry past
 * its client's timeout instead of answering 503 "nothing written", and A took the abandoned attempt up: answered
 * from E1's write (200, a duplicate) instead of 503 without a reservation.
 */

const CATEGORY = 'account';
const deposit = (): NewEvent & { id: string } => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount: 1, currency: 'EUR', transferId: null },
});

/** A counter or gauge of a guard's /metrics (0 when absent). */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** An append's end: its result, or the error it was thrown with. */
async function settle<T>(promise: Promise<T>): Promise<{ ok: T } | { error: unknown }> {
  try {
    return { ok: await promise };
  } catch (error) {
    return { error };
  }
}

describe('an attempt its client gave up on (issue 12, two guards, end to end)', () => {
  const namespace = uniqueName('ab');
  const topicPrefix = `${namespace}.`;
  const addresses = stack();
  const env: Record<string, string> = {
    KAFKA_BROKERS: addresses.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: addresses.schemaRegistryUrl,
    REDIS_URL: addresses.redisUrl,
    KES_REDIS_PREFIX: `${namespace}:`,
    KES_TOPIC_PREFIX: topicPrefix,
    KES_TOPIC_PARTITIONS: '2',
    KES_SCHEMAS_DIR: join(process.cwd(), 'schemas'),
    KES_GUARD_RESERVATION_MS: '2000',
    KES_GUARD_LEASE_MS: '3000',
  };
  let guardA: GuardProcess;
  let guardB: GuardProcess;
  let proxy: HoldingProxy;

  beforeAll(async () => {
    guardA = new GuardProcess('guard-a', await freePort(), env);
    guardB = new GuardProcess('guard-b', await freePort(), {
      ...env,
      // Every transaction of B fails after its records were sent: nothing B reserves is ever committed, so the
      // version its group reserved stays free for whoever comes next, and nothing races the abandoned attempt.
      KES_FAILPOINTS: 'fail@after-send:1',
      KES_GUARD_LINGER_MS: '1000',
      KES_GUARD_PIPELINE: '1',
    });
    await Promise.all([guardA.start(), guardB.start()]);
    proxy = new HoldingProxy(guardA.url, 1);
    await proxy.start();
  });

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([guardA?.stop(), guardB?.stop()]);
  });

  it('never refuses an append that is then written, and never writes the abandoned attempt after its retry', async () => {
    const attempts: AppendAttempt[] = [];
    // Each client's attempts are numbered as one logical append's: w1's retries go on from its first attempt.
    const log =
      (client: string, offset = 0) =>
      (report: AttemptReport) =>
        attempts.push(toHistory(client, { ...report, attempt: report.attempt + offset }));
    const stream = `${CATEGORY}-${randomUUID()}`;
    const e1 = deposit();
    const e2 = deposit();

    // The category's topic, and a writer of A that works, before the race.
    const warm = new GuardClient({ url: guardA.url, apiKey: LOCAL_DEV_KEY, onAttempt: log('warm-up') });
    await warm.appendToStream(`${CATEGORY}-${randomUUID()}`, [deposit()], { expectedVersion: 'no_stream' });

    // 1. The first attempt is held in the proxy; its client gives up after 1 s.
    const first = new GuardClient({
      url: proxy.url,
      apiKey: LOCAL_DEV_KEY,
      timeoutMs: 1_000,
      maxAttempts: 1,
      // Sent alone (POST /streams/…/events): the late answer the proxy keeps is read below as a single append's.
      coalesce: false,
      onAttempt: log('w1'),
    });
    const firstEnd = settle(first.appendToStream(stream, [e1], { expectedVersion: 'no_stream' }));
    await waitFor('the proxy to hold the first attempt', () => proxy.holding === 1);
    const gaveUp = await firstEnd;
    expect('error' in gaveUp && gaveUp.error).toBeInstanceOf(AppendIndeterminateError);

    // 2. w2's append queued in B, then w1's retry (same id), so that both are in B's next group, w2's first.
    const w2 = new GuardClient({
      url: guardB.url,
      apiKey: LOCAL_DEV_KEY,
      timeoutMs: 10_000,
      maxAttempts: 1,
      onAttempt: log('w2'),
    });
    const w2End = settle(w2.appendToStream(stream, [e2], { expectedVersion: 'no_stream' }));
    await waitFor(
      'w2 queued in guard B',
      async () => (await metric(guardB.url, 'kes_guard_queued_appends')) >= 1,
      10_000,
      10,
    );
    // B first; after an answer that may change (503, timeout) the client goes on to A, as GuardClient does.
    const retry = new GuardClient({
      url: [guardB.url, guardA.url],
      apiKey: LOCAL_DEV_KEY,
      timeoutMs: 3_000,
      maxAttempts: 6,
      onAttempt: log('w1', 1),
    });
    const retried = await settle(retry.appendToStream(stream, [e1], { expectedVersion: 'no_stream' }));

    // 4. Only now does the first attempt reach A: after its client gave up, after its retry was answered.
    const [late] = await proxy.release();
    const w2Answer = await w2End;

    // 3. happened: B's transaction failed after the send at least once.
    expect(guardB.tail(1_000), 'guard B output').toContain('failpoint after-send: fail');

    const kafka = createKafka({ KAFKA_BROKERS: addresses.kafkaBrokers }, uniqueName('check'), {
      logLevel: logLevel.NOTHING,
    });
    const report = await runCheck({ kafka, attempts, topicPrefix });
    const w1Attempts = attempts.filter((a) => a.client === 'w1');
    const context = JSON.stringify({ w1Attempts, late, w2: attempts.filter((a) => a.client === 'w2') }, null, 1);
    // The checker first: before the fix it named the abandoned attempt written after the refusal.
    expect(
      report.violations.map((v) => `invariant ${v.invariant}: ${v.detail}`),
      context,
    ).toEqual([]);

    // The concrete answers. w1: given up, then B could not write: never a 409 about w2's released reservation, but
    // 503 "nothing written" just before the client's deadline (B gives the retry up 250 ms before it; on a starved
    // machine the client's own timeout may come first, which is as good), then A wrote E1 at version 0.
    expect(w1Attempts, context).toHaveLength(3);
    expect(w1Attempts[0]?.outcome.status, context).toBe('indeterminate');
    expect([
      { status: 'rejected', httpStatus: 503, code: 'not_ready' },
      { status: 'indeterminate', reason: 'TimeoutError' },
    ]).toContainEqual(w1Attempts[1]?.outcome);
    expect(w1Attempts[2]?.outcome, context).toMatchObject({ status: 'ok', firstVersion: 0, lastVersion: 0 });
    // Written by this retry, not answered from an earlier write.
    expect('ok' in retried && retried.ok.duplicate === true, context).toBe(false);
    // The abandoned attempt reached A after its deadline: answered "nothing written" without being reserved.
    expect(late?.clientWaiting).toBe(false);
    expect(late?.status, context).toBe(503);
    expect(JSON.parse(late?.body ?? '{}')).toMatchObject({ error: 'not_ready' });
    // w2: refused on settled state, once E1 was committed.
    expect('error' in w2Answer, context).toBe(true);
    expect(attempts.find((a) => a.client === 'w2')?.outcome).toEqual({ status: 'conflict', actual: 0 });

    const events = (await readCommittedEvents(kafka, { topicPrefix })).filter((e) => e.stream === stream);
    expect(events.map((e) => [e.version, e.eventId])).toEqual([[0, e1.id]]);
    const w2Refused = attempts.find((a) => a.client === 'w2')?.endMs as number;
    expect(events[0]?.timeMs).toBeLessThanOrEqual(w2Refused);
  });
});
