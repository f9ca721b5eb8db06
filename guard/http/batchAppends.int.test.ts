import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, post, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import type { RunningGuard } from '../guard.js';

/** `POST /appends` on the real stack: independent items, atomic batches, and what each wrote. */
const deposit = (amount = 100) => ({
  id: randomUUID(),
  type: 'MoneyDeposited',
  data: { amount, currency: 'EUR', transferId: null },
});
const account = () => `account-${randomUUID()}`;

describe('POST /appends', () => {
  const setup = testGuardConfig({
    KES_API_KEYS: JSON.stringify([
      { key: API_KEY, service: 'local-dev', categories: ['*'] },
      { key: 'accounts-service-key', service: 'accounts', categories: ['account'] },
    ]),
    KES_MAX_BATCH_APPENDS: '5',
  });
  let guard: RunningGuard;

  beforeAll(async () => {
    guard = await startTestGuard(setup);
  });
  afterAll(async () => guard?.close());

  async function batch(body: unknown, key = API_KEY): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${guard.url}/appends`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  const results = (r: { body: Record<string, unknown> }) => r.body.results as Record<string, unknown>[];
  async function versionOf(stream: string): Promise<number> {
    const r = await fetch(`${guard.url}/streams/${stream}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return ((await r.json()) as { version: number }).version;
  }

  it('answers independent items each with its own status, in request order', async () => {
    const [a, b, c] = [account(), account(), account()];
    await post(guard.url, b, { expectedVersion: 'no_stream', events: [deposit()] });
    const r = await batch(
      {
        appends: [
          { stream: a, expectedVersion: 'no_stream', events: [deposit(), deposit()] },
          { stream: b, expectedVersion: 'no_stream', events: [deposit()] },
          {
            stream: c,
            expectedVersion: -1,
            events: [{ id: randomUUID(), type: 'MoneyDeposited', data: { currency: 'EUR', transferId: null } }],
          },
          { stream: 'order-1', expectedVersion: 'any', events: [deposit()] },
        ],
      },
      'accounts-service-key',
    );
    expect(r.status).toBe(200);
    const [ra, rb, rc, rd] = results(r);
    expect(ra).toMatchObject({ status: 200, stream: a, firstVersion: 0, lastVersion: 1 });
    expect(rb).toMatchObject({ status: 409, error: 'wrong_expected_version', stream: b, actual: 0 });
    expect(rc).toMatchObject({ status: 400, path: 'appends[2].events[0].data.amount' });
    expect(rd).toMatchObject({ status: 403, error: 'forbidden' });
    expect([await versionOf(a), await versionOf(b), await versionOf(c)]).toEqual([1, 0, -1]);
  });

  it('answers a retried batch from the first write, item by item, also across single and batch requests', async () => {
    const [a, b] = [account(), account()];
    const first = { stream: a, expectedVersion: 'no_stream', events: [deposit()] };
    const single = { expectedVersion: 'no_stream', events: [deposit()] };
    expect((await post(guard.url, b, single)).status).toBe(200);
    const once = await batch({ appends: [first] });
    const again = await batch({ appends: [first, { stream: b, ...single }] });
    expect(results(again)[0]).toEqual({ ...results(once)[0], duplicate: true });
    expect(results(again)[1]).toMatchObject({ status: 200, stream: b, firstVersion: 0, duplicate: true });
  });

  it('writes an atomic batch whole, in one transaction', async () => {
    const streams = [account(), account(), account()];
    await post(guard.url, streams[2] as string, { expectedVersion: 'no_stream', events: [deposit()] });
    const r = await batch({
      atomic: true,
      appends: streams.map((stream, i) => ({
        stream,
        expectedVersion: i === 2 ? 0 : 'no_stream',
        events: [deposit()],
      })),
    });
    expect(r.status).toBe(200);
    const answers = results(r);
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200]);
    expect(await Promise.all(streams.map(versionOf))).toEqual([0, 0, 1]);
  });

  it('refuses an atomic batch whole when one item conflicts: nothing written, others batch_aborted', async () => {
    const streams = [account(), account(), account()];
    await post(guard.url, streams[1] as string, { expectedVersion: 'no_stream', events: [deposit()] });
    const r = await batch({
      atomic: true,
      appends: streams.map((stream) => ({ stream, expectedVersion: 'no_stream', events: [deposit()] })),
    });
    expect(r.status).toBe(409);
    expect(results(r)).toEqual([
      expect.objectContaining({ status: 409, error: 'batch_aborted' }),
      expect.objectContaining({ status: 409, error: 'wrong_expected_version', stream: streams[1], actual: 0 }),
      expect.objectContaining({ status: 409, error: 'batch_aborted' }),
    ]);
    expect(await Promise.all(streams.map(versionOf))).toEqual([-1, 0, -1]);
    // nothing stays locked: the same streams take a batch right after
    const ok = await batch({
      atomic: true,
      appends: streams.map((stream, i) => ({
        stream,
        expectedVersion: i === 1 ? 0 : 'no_stream',
        events: [deposit()],
      })),
    });
    expect(ok.status).toBe(200);
  });

  it('refuses an atomic batch with a bad item or a repeated stream with 400 and paths from the root', async () => {
    const a = account();
    const bad = await batch({
      atomic: true,
      appends: [
        { stream: a, expectedVersion: 'no_stream', events: [deposit()] },
        {
          stream: account(),
          expectedVersion: 'no_stream',
          events: [
            { id: randomUUID(), type: 'MoneyDeposited', data: { amount: 'x', currency: 'EUR', transferId: null } },
          ],
        },
      ],
    });
    expect(bad.status).toBe(400);
    expect(results(bad)[0]).toMatchObject({ status: 409, error: 'batch_aborted' });
    expect(results(bad)[1]).toMatchObject({ status: 400, path: 'appends[1].events[0].data.amount' });
    const repeated = await batch({
      atomic: true,
      appends: [
        { stream: a, expectedVersion: 'no_stream', events: [deposit()] },
        { stream: a, expectedVersion: 0, events: [deposit()] },
      ],
    });
    expect(repeated.status).toBe(400);
    expect(results(repeated)[1]).toMatchObject({ error: 'repeated_stream', path: 'appends[1].stream' });
    expect(await versionOf(a)).toBe(-1);
  });

  it('answers a retried atomic batch that committed from its first write', async () => {
    const appends = [account(), account()].map((stream) => ({
      stream,
      expectedVersion: 'no_stream',
      events: [deposit()],
    }));
    const once = await batch({ atomic: true, appends });
    const again = await batch({ atomic: true, appends });
    expect(again.status).toBe(200);
    expect(results(again)).toEqual(results(once).map((x) => ({ ...x, duplicate: true })));
  });

  it('fails a malformed top level whole', async () => {
    expect((await batch({ appends: [] })).body).toMatchObject({ error: 'invalid_appends', path: 'appends' });
    expect((await batch({ appends: 'x' })).status).toBe(400);
    expect((await batch({ appends: [], extra: 1 })).body).toMatchObject({ error: 'unknown_field', path: 'extra' });
    expect((await batch({ atomic: 'yes', appends: [{}] })).body).toMatchObject({ path: 'atomic' });
    const tooMany = Array.from({ length: 6 }, () => ({
      stream: account(),
      expectedVersion: 'any',
      events: [deposit()],
    }));
    expect((await batch({ appends: tooMany })).body).toMatchObject({ error: 'too_many_appends', path: 'appends' });
    const unauthorized = await fetch(`${guard.url}/appends`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unauthorized.status).toBe(401);
  });
});
