import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules as bankModules } from '../../example/modules.js';
import { CommandRejectedError } from '../../pipeline/errors.js';
import { API_KEY, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
import { CommandClient } from '../client/commandClient.js';
import type { RunningGuard } from '../guard.js';

/** `POST /commands` on the real stack: independent commands, each answered alone, sharing group commits. */
describe('POST /commands', () => {
  const setup = testGuardConfig({ KES_MAX_BATCH_APPENDS: '50' });
  let guard: RunningGuard;

  beforeAll(async () => {
    guard = await startTestGuard(setup, { modules: bankModules });
  });
  afterAll(async () => guard?.close());

  async function commands(body: unknown): Promise<{ status: number; results: Record<string, unknown>[] }> {
    const response = await fetch(`${guard.url}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { results: Record<string, unknown>[] };
    return { status: response.status, results: json.results };
  }

  it('runs each command on its own: results in request order, errors with paths from the root', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const open = (id: string) => ({ category: 'account', id, type: 'open', data: { owner: 'ada', currency: 'EUR' } });
    const opened = await commands({ commands: [open(a), open(b)] });
    expect(opened.results.map((r) => r.status)).toEqual([200, 200]);

    const deposit = (id: string, amount: unknown) => ({
      category: 'account',
      id,
      type: 'deposit',
      data: { amount, currency: 'EUR' },
    });
    // twenty deposits on one stream in one request: one at a time per stream, none lost
    const many = await commands({ commands: Array.from({ length: 20 }, () => deposit(a, 5)) });
    expect(many.results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(many.results.map((r) => r.version)).size).toBe(20);

    const mixed = await commands({
      commands: [
        deposit(b, 7),
        deposit(b, 'x'),
        { category: 'nobody', id: a, type: 'open', data: {} },
        { category: 'account', id: randomUUID(), type: 'withdraw', data: { amount: 1, currency: 'EUR' } },
      ],
    });
    expect(mixed.status).toBe(200);
    expect(mixed.results[0]).toMatchObject({ status: 200, stream: `account-${b}` });
    expect(mixed.results[1]).toMatchObject({ status: 400, path: 'commands[1].data.amount' });
    expect(mixed.results[2]).toMatchObject({ status: 400, error: 'unknown_category', path: 'commands[2].category' });
    expect(mixed.results[3]).toMatchObject({ status: 422, error: 'command_rejected' });

    const state = await fetch(`${guard.url}/commands/account/${a}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(((await state.json()) as { state: { balance: number } }).state.balance).toBe(100);
  });

  it('refuses a malformed top level whole', async () => {
    expect(await commands({ commands: [] })).toMatchObject({ status: 400 });
    expect(await commands({ commands: 'x' })).toMatchObject({ status: 400 });
    expect((await commands({ commands: Array.from({ length: 51 }, () => ({})) })).status).toBe(400);
  });
});

describe('CommandClient coalescing against a real guard', () => {
  const setup = testGuardConfig();
  let guard: RunningGuard;

  beforeAll(async () => {
    guard = await startTestGuard(setup, { modules: bankModules });
  });
  afterAll(async () => guard?.close());

  it('sends concurrent commands as batches, each call answered on its own', async () => {
    const client = new CommandClient({ url: guard.url, apiKey: API_KEY });
    const [a, b] = [randomUUID(), randomUUID()];
    await Promise.all([a, b].map((id) => client.send('account', id, 'open', { owner: 'ada', currency: 'EUR' })));
    const sends = Array.from({ length: 40 }, (_, i) =>
      client.send('account', i % 2 ? a : b, 'deposit', { amount: 10, currency: 'EUR' }),
    );
    const refused = client.send('account', a, 'withdraw', { amount: 1_000_000, currency: 'EUR' });
    const results = await Promise.all(sends);
    expect(results.map((r) => r.events.length)).toEqual(Array.from({ length: 40 }, () => 1));
    await expect(refused).rejects.toBeInstanceOf(CommandRejectedError);
    const state = await client.state<{ balance: number }>('account', a);
    expect(state.state.balance).toBe(200);
    const metrics = await (await fetch(`${guard.url}/metrics`)).text();
    const count = Number(/kes_guard_batch_items_count\{route="commands"\} (\d+)/.exec(metrics)?.[1]);
    const sum = Number(/kes_guard_batch_items_sum\{route="commands"\} (\d+)/.exec(metrics)?.[1]);
    expect(sum).toBe(43);
    expect(count).toBeLessThan(10);
  });
});
