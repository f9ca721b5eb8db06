import { describe, expect, it } from 'vitest';
import { type AccountEvent, accountModule } from '../../example/accounts/account.js';
import {
  CommandConflictError,
  CommandRejectedError,
  EventIdConflictError,
  ModuleError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import { CommandHandler } from './commandHandler.js';
import type { CommandStore } from './commandStore.js';
import { anyModule, type CommandModule, fold } from './decider.js';
import type { StateCache } from './stateCache.js';
import type { StreamEvent } from './streamEvents.js';

/**
 * The handler's own logic (retries, recorded refusals, command ids, one command per stream at a time) against an
 * event store kept in memory: a compare-and-swap on versions and an id index, nothing more. The same handler on the
 * real guard is tested in commands.int.test.ts.
 */
class MemoryStore implements CommandStore {
  readonly streams = new Map<string, StreamEvent[]>();
  readonly ids = new Map<string, { stream: string; version: number }>();
  appends = 0;
  /** Runs before each append: tests let "another writer" in here. */
  beforeAppend: (stream: string) => void = () => {};

  async locate(stream: string) {
    return { version: (this.streams.get(stream)?.length ?? 0) - 1, topic: 't', partition: 0 };
  }
  async read(slice: { stream: string; afterVersion: number; untilVersion: number }) {
    return (this.streams.get(slice.stream) ?? []).slice(slice.afterVersion + 1, slice.untilVersion + 1);
  }
  async append(
    _module: CommandModule,
    stream: string,
    expected: number,
    events: readonly { id: string; type: string; data: unknown }[],
  ) {
    this.beforeAppend(stream);
    const list = this.streams.get(stream) ?? [];
    if (list.length - 1 !== expected) throw new WrongExpectedVersionError(stream, expected, list.length - 1);
    this.appends++;
    for (const e of events) {
      this.ids.set(e.id, { stream, version: list.length });
      list.push({ type: e.type, data: e.data as Record<string, unknown>, version: list.length, offset: list.length });
    }
    this.streams.set(stream, list);
    const last = list.length - 1;
    return {
      stream,
      firstVersion: last - events.length + 1,
      lastVersion: last,
      topic: 't',
      partition: 0,
      offset: last,
      duplicate: false,
    };
  }
  async written(eventId: string) {
    return this.ids.get(eventId);
  }
  /** Another writer appends directly. */
  push(stream: string, event: AccountEvent): void {
    const list = this.streams.get(stream) ?? [];
    list.push({ ...event, version: list.length, offset: list.length });
    this.streams.set(stream, list);
  }
}

const account = anyModule(accountModule);
const settings = { maxAttempts: 4, retryBaseMs: 0, retryMaxMs: 0 };
const opened: AccountEvent = { type: 'AccountOpened', data: { accountId: 'a', owner: 'o', currency: 'EUR' } };
const deposit = (amount: number): AccountEvent => ({
  type: 'MoneyDeposited',
  data: { amount, currency: 'EUR', transferId: null },
});

describe('CommandHandler', () => {
  it('decides again on the reloaded state after losing the compare-and-swap', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    store.push('account-a', deposit(100));
    let interloper = true;
    store.beforeAppend = () => {
      if (interloper)
        store.push('account-a', { type: 'MoneyWithdrawn', data: { amount: 80, currency: 'EUR', transferId: null } });
      interloper = false;
    };
    const handler = new CommandHandler(store, undefined, settings);
    // Decided on balance 100 first; after the other writer took 80, decided again on 20: refused.
    await expect(
      handler.handle(account, 'a', { type: 'withdraw', data: { amount: 50, currency: 'EUR' } }),
    ).rejects.toMatchObject({
      reason: 'insufficient_funds',
      version: 2,
    });
    expect(store.appends).toBe(0);
  });

  it('answers a conflict once every attempt lost, having written nothing', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    store.beforeAppend = () => store.push('account-a', deposit(1));
    const handler = new CommandHandler(store, undefined, settings);
    const error = await handler
      .handle(account, 'a', { type: 'deposit', data: { amount: 5, currency: 'EUR' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandConflictError);
    expect(error).toMatchObject({ attempts: 4, retriable: true });
    expect(store.appends).toBe(0);
  });

  it('never retries a command that named its expected version', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    const handler = new CommandHandler(store, undefined, settings);
    await expect(
      handler.handle(account, 'a', { type: 'deposit', data: { amount: 5, currency: 'EUR' }, expectedVersion: 3 }),
    ).rejects.toBeInstanceOf(WrongExpectedVersionError);
  });

  it('writes a recorded refusal, answers the refusal, and refuses a repeat without writing again', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    const handler = new CommandHandler(store, undefined, settings);
    const step = { type: 'withdraw', data: { amount: 5, currency: 'EUR', transferId: 't1' }, commandId: 't1:debit' };
    const first = await handler.handle(account, 'a', step).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(CommandRejectedError);
    expect(first).toMatchObject({ reason: 'insufficient_funds', version: 1 });
    expect(store.streams.get('account-a')?.[1]?.type).toBe('TransferStepRefused');
    store.push('account-a', deposit(1_000));
    await expect(handler.handle(account, 'a', step)).rejects.toMatchObject({ reason: 'insufficient_funds' });
    expect(store.streams.get('account-a')?.length).toBe(3);
  });

  it('answers a repeated command id from its first write', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    const handler = new CommandHandler(store, undefined, settings);
    const pay = { type: 'deposit', data: { amount: 5, currency: 'EUR' }, commandId: 'pay-1' };
    expect(await handler.handle(account, 'a', pay)).toMatchObject({ version: 1, attempts: 1 });
    expect(await handler.handle(account, 'a', pay)).toMatchObject({ version: 1, duplicate: true, events: [] });
    expect(store.streams.get('account-a')?.length).toBe(2);
  });

  it('runs commands on one stream one at a time: concurrent writers in one process never conflict', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    const handler = new CommandHandler(store, undefined, settings);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        handler.handle(account, 'a', { type: 'deposit', data: { amount: 1, currency: 'EUR' } }),
      ),
    );
    expect(results.map((r) => r.attempts)).toEqual(Array(20).fill(1));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('decides commands waiting for one stream together and writes them as one append, each answered alone', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    store.push('account-a', deposit(10));
    const handler = new CommandHandler(store, undefined, settings);
    const withdraw = (amount: number) => ({ type: 'withdraw', data: { amount, currency: 'EUR' } });
    const answers = await Promise.allSettled([
      handler.handle(account, 'a', withdraw(8)),
      handler.handle(account, 'a', withdraw(5)), // 2 left: refused, and the next is decided as if it never came
      handler.handle(account, 'a', withdraw(2)),
      handler.handle(account, 'a', { type: 'deposit', data: { amount: 1, currency: 'USD' } }), // refused
      handler.handle(account, 'a', { type: 'deposit', data: { amount: 7, currency: 'EUR' }, commandId: 'd7' }),
    ]);
    expect(store.appends).toBe(1);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(answers[0]).toMatchObject({ value: { version: 2, events: [{ version: 2 }], position: { offset: 2 } } });
    expect(answers[1]).toMatchObject({ reason: { reason: 'insufficient_funds', version: 2 } });
    expect(answers[2]).toMatchObject({ value: { version: 3, events: [{ version: 3 }], attempts: 1 } });
    expect(answers[3]).toMatchObject({ reason: { reason: 'currency_mismatch', version: 3 } });
    expect(answers[4]).toMatchObject({ value: { version: 4, events: [{ version: 4 }] } });
    expect(store.streams.get('account-a')?.map((e) => e.type)).toEqual([
      'AccountOpened',
      'MoneyDeposited',
      'MoneyWithdrawn',
      'MoneyWithdrawn',
      'MoneyDeposited',
    ]);
    // The last command's ids are derived from its command id: sent again, it is answered from that write.
    expect(
      await handler.handle(account, 'a', { type: 'deposit', data: { amount: 7, currency: 'EUR' }, commandId: 'd7' }),
    ).toMatchObject({ duplicate: true, version: 4, events: [] });
    expect(store.streams.get('account-a')).toHaveLength(5);
  });

  it('decides the whole set again on the reloaded state when its append loses the compare-and-swap', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    store.push('account-a', deposit(10));
    let interloper = true;
    store.beforeAppend = () => {
      if (interloper)
        store.push('account-a', { type: 'MoneyWithdrawn', data: { amount: 6, currency: 'EUR', transferId: null } });
      interloper = false;
    };
    const handler = new CommandHandler(store, undefined, settings);
    const withdraw = (amount: number) =>
      handler.handle(account, 'a', { type: 'withdraw', data: { amount, currency: 'EUR' } });
    const answers = await Promise.allSettled([withdraw(3), withdraw(3)]);
    // Both fit 10; on the 4 left after the other writer only the first does.
    expect(answers[0]).toMatchObject({ value: { version: 3, attempts: 2 } });
    expect(answers[1]).toMatchObject({ reason: { reason: 'insufficient_funds', version: 3 } });
    expect(store.appends).toBe(1);
  });

  it('answers a retry in the same set as a duplicate of the first attempt, never writing it twice', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    const handler = new CommandHandler(store, undefined, settings);
    const pay = { type: 'deposit', data: { amount: 5, currency: 'EUR' }, commandId: 'pay-1' };
    const other = { type: 'deposit', data: { amount: 1, currency: 'EUR' } };
    const [first, second, retry] = await Promise.all([
      handler.handle(account, 'a', pay),
      handler.handle(account, 'a', other),
      handler.handle(account, 'a', pay),
    ]);
    expect(first).toMatchObject({ version: 1 });
    expect(second).toMatchObject({ version: 2 });
    expect(retry).toMatchObject({ duplicate: true, version: 1, events: [] });
    expect(store.streams.get('account-a')).toHaveLength(3);
  });

  it('splits a set whose append is refused for one command (ids taken): each command is answered alone', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    const handler = new CommandHandler(store, undefined, settings);
    const pay = { type: 'deposit', data: { amount: 5, currency: 'EUR' }, commandId: 'pay-1' };
    await handler.handle(account, 'a', pay);
    // Its first write is not visible to the check before deciding (another guard's, in flight then), only to the append.
    const written = store.written.bind(store);
    let hide = true;
    store.written = async (id: string) => (hide ? undefined : written(id));
    const append = store.append.bind(store);
    store.append = async (module, stream, expected, events) => {
      hide = false;
      const taken = events.find((e) => store.ids.has(e.id));
      if (taken) throw new EventIdConflictError(stream, taken.id, 'was written by another append');
      return append(module, stream, expected, events);
    };
    const [retry, fresh] = await Promise.all([
      handler.handle(account, 'a', pay),
      handler.handle(account, 'a', { type: 'deposit', data: { amount: 1, currency: 'EUR' } }),
    ]);
    expect(retry).toMatchObject({ duplicate: true, version: 1 });
    expect(fresh).toMatchObject({ version: 2, events: [{ version: 2 }] });
    expect(store.streams.get('account-a')).toHaveLength(3);
  });

  it('uses a cached state ahead of the version it read: another writer committed between the two reads', async () => {
    const store = new MemoryStore();
    store.push('account-a', opened);
    store.push('account-a', deposit(100));
    // The version was read just before the other writer's commit (1); the cache already holds its state (2).
    store.push('account-a', deposit(50));
    store.locate = async () => ({ version: 1, topic: 't', partition: 0 });
    let reads = 0;
    const read = store.read.bind(store);
    store.read = async (slice) => {
      reads++;
      return read(slice);
    };
    const state = fold(accountModule, accountModule.initialState(), [opened, deposit(100), deposit(50)]);
    const cache = {
      key: () => 'k',
      get: async () => ({ version: 2, partition: 0, offset: 2, state }),
      put: async () => true,
    } as unknown as StateCache;
    const handler = new CommandHandler(store, cache, settings);
    const result = await handler.handle(account, 'a', { type: 'withdraw', data: { amount: 150, currency: 'EUR' } });
    expect(result).toMatchObject({ version: 3, attempts: 1 });
    expect(reads).toBe(0);
  });

  it('reports a module that throws something other than a rejection as a module error', async () => {
    const broken: CommandModule = {
      ...account,
      decide: () => {
        throw new TypeError('boom');
      },
    };
    const handler = new CommandHandler(new MemoryStore(), undefined, settings);
    await expect(handler.handle(broken, 'a', { type: 'close', data: {} })).rejects.toBeInstanceOf(ModuleError);
  });
});
