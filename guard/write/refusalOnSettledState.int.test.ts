import { randomUUID } from 'node:crypto';
import { logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFailpoints } from '../../pipeline/faults/failpoints.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { post, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { uniqueName } from '../../test/support/names.js';
import { readCommittedEvents } from '../../verify/history/topicContents.js';
import type { RunningGuard } from '../guard.js';

/**
 * Issue 12, at the writer: a refusal is decided on committed, settled state only.
 *
 * The race: two appends expecting version 0 meet in one group commit. The first reserves version 1; the second
 * used to be answered 409 (actual 1) at once. Then the group's transaction failed after the send: version 1 was
 * released, and the 409 had been about a version that did not exist. (In guard/faults/brokerRestart that let an
 * abandoned first attempt be written after its retry was refused.) Now the second waits for the group to settle
 * and is decided again, so a 409 is only ever answered after the version it names was committed.
 */
const deposit = () => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount: 1, currency: 'EUR', transferId: null },
});

describe('refusals on settled state: a real writer whose transaction fails after the send', () => {
  // One writer and a long linger, so that the two appends share one group commit.
  const setup = testGuardConfig({ KES_GUARD_LINGER_MS: '150', KES_GUARD_PIPELINE: '1' });
  let guard: RunningGuard;

  beforeAll(async () => {
    guard = await startTestGuard(setup);
  });
  afterAll(async () => {
    setFailpoints('');
    await guard?.close();
  });

  it('does not refuse against versions of a group that then fails; a 409 comes after the version it names', async () => {
    const s = `account-${randomUUID()}`;
    expect((await post(guard.url, s, { expectedVersion: 'no_stream', events: [deposit()] })).status).toBe(200);

    setFailpoints('fail@after-send:1x1');
    const send = async (event: ReturnType<typeof deposit>) => {
      const answer = await post(guard.url, s, { expectedVersion: 0, events: [event] });
      return { ...answer, id: event.id, at: Date.now() };
    };
    const answers = await Promise.all([send(deposit()), send(deposit())]);
    setFailpoints('');

    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const written = answers.find((a) => a.status === 200);
    const refused = answers.find((a) => a.status === 409);
    expect(refused?.body).toMatchObject({ error: 'wrong_expected_version', expected: 0, actual: 1 });

    const kafka = createKafka(setup.config, uniqueName('check'), { logLevel: logLevel.NOTHING });
    const events = (await readCommittedEvents(kafka, { topicPrefix: setup.topicPrefix })).filter((e) => e.stream === s);
    expect(events.map((e) => e.version)).toEqual([0, 1]);
    const v1 = events[1];
    expect(v1?.eventId).toBe(written?.id);
    expect(events.some((e) => e.eventId === refused?.id)).toBe(false);
    // The refusal names version 1: it was answered only once version 1 was written (the record's kes-time is
    // stamped before its transaction commits, so it is earlier still).
    expect(v1?.timeMs).toBeLessThanOrEqual(refused?.at as number);
  });
});
