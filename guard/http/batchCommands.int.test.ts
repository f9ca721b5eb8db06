import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules as bankModules } from '../../example/modules.js';
import { API_KEY, startTestGuard, testGuardConfig } from '../../test/support/guard.js';
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
