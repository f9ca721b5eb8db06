import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../pipeline/redis/redisClient.js';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/waitFor.js';
import { matchesExpectedVersion } from '../append/expectedVersion.js';
import { emptyFold, foldRecords, READ_BACK_HEADERS, versionPairs } from '../recovery/readBackRecord.js';
import { serverRunId } from './generation.js';
import { windowShape } from './idWindow.js';
import { KeySpace, type PartitionKeys } from './keys.js';
import {
  applyIds,
  applyVersions,
  type ConfirmEvent,
  confirm,
  defineScripts,
  lookupId,
  parseReservation,
  parseReserve,
  type ReserveAppend,
  release,
  reservations,
  reserve,
  resolve,
  type Validated,
} from './redisState.js';

/**
 * The guard's Redis scripts on the real Redis, called directly through their typed wrappers. Each test has its own
 * key prefix and writes its own generation record; nothing else of the guard runs.
 */

let redis: Redis;
let runId: string;

interface AppliedEvent extends ConfirmEvent {
  timeMs: number;
}

/**
 * Applies events as readBack does (guard/recovery/readBack.ts): folded by readBackRecord, then the idempotency entries
 * (applyIds) and the versions with the watermark (applyVersions). 'stale' when either script answered so.
 */
async function apply(
  sender: Redis,
  keys: KeySpace,
  pk: PartitionKeys,
  v: Validated,
  a: { windowMs: number; topic: string; partition: number; watermark: number; maxEvents?: number },
  list: readonly AppliedEvent[],
): Promise<unknown> {
  const fold = emptyFold();
  const values = [
    list.map((e) => e.stream),
    list.map((e) => String(e.version)),
    list.map((e) => e.id),
    list.map(() => 'T'),
    list.map((e) => String(e.timeMs)),
    list.map((e) => e.hash),
  ];
  expect(values.length).toBe(READ_BACK_HEADERS.length);
  const records = { topic: a.topic, partition: a.partition, offsets: list.map((e) => e.offset), values };
  const entries = foldRecords(fold, records, (await redisNowMs()) - a.windowMs);
  const answers = [
    await applyIds(sender, keys, pk, v, windowShape(a.windowMs, a.maxEvents ?? MAX_EVENTS), entries),
    await applyVersions(sender, keys, pk, v, a.watermark, versionPairs(fold)),
  ];
  return answers.includes('stale') ? 'stale' : answers[0];
}
const FAKE_RUN_ID = 'f'.repeat(40);
const TOPIC = 'orders';
const PARTITION = 3;
const WINDOW = 3_600_000;
const MAX_EVENTS = 1000;
const prefixes: string[] = [];

beforeAll(async () => {
  redis = createRedis({ REDIS_URL: stack().redisUrl });
  defineScripts(redis);
  runId = await serverRunId(redis);
});

afterEach(async () => {
  for (const prefix of prefixes.splice(0)) {
    const keys = await keysUnder(prefix);
    if (keys.length > 0) await redis.del(...keys);
  }
});

afterAll(async () => {
  await redis.quit();
});

interface Ctx {
  keys: KeySpace;
  pk: PartitionKeys;
  v: Validated;
}

/** A fresh key space with a generation record bound to the running server, as a validated guard sees it. */
async function fresh(): Promise<Ctx> {
  const prefix = `${uniqueName('s')}:`;
  prefixes.push(prefix);
  const keys = new KeySpace(prefix);
  const v: Validated = { gen: 'gen-1', runId };
  await redis.set(keys.gen, `${v.gen}|${v.runId}`);
  return { keys, pk: keys.partition(TOPIC, PARTITION), v };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found.sort();
}

/** Every key under the prefix with its whole content, to show that a refused call wrote nothing. */
async function snapshot(keys: KeySpace): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of await keysUnder(keys.prefix)) {
    const type = await redis.type(key);
    if (type === 'hash') out[key] = await redis.hgetall(key);
    else if (type === 'string') out[key] = await redis.get(key);
    else if (type === 'zset') out[key] = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    else out[key] = type;
  }
  return out;
}

let idSeq = 0;
/** Event ids and content hashes (the scripts treat both as opaque strings). */
function events(n: number, tag = 'e'): { id: string; hash: string }[] {
  return Array.from({ length: n }, () => {
    const id = `${tag}-${++idSeq}`;
    return { id, hash: `h-${id}` };
  });
}

async function doReserve(
  c: Ctx,
  resId: string,
  appends: readonly ReserveAppend[],
  options: { v?: Validated; ttlMs?: number; slot?: number } = {},
) {
  const raw = await reserve(
    redis,
    c.keys,
    c.pk,
    options.v ?? c.v,
    { resId, slot: options.slot ?? 0, ttlMs: options.ttlMs ?? 10_000 },
    appends,
  );
  return parseReserve(raw);
}

/** Confirms a reservation as the writer does: each event at the offset after the previous one. */
async function doConfirm(
  c: Ctx,
  resId: string,
  written: { stream: string; first: number; events: { id: string; hash: string }[] }[],
  firstOffset: number,
  options: { v?: Validated; windowMs?: number; maxEvents?: number } = {},
) {
  const list: ConfirmEvent[] = [];
  let offset = firstOffset;
  for (const w of written) {
    w.events.forEach((e, i) => {
      list.push({ id: e.id, stream: w.stream, version: w.first + i, offset: offset++, hash: e.hash });
    });
  }
  return confirm(
    redis,
    c.keys,
    c.pk,
    options.v ?? c.v,
    {
      resId,
      window: windowShape(options.windowMs ?? WINDOW, options.maxEvents ?? MAX_EVENTS),
      lastOffset: offset - 1,
    },
    list,
  );
}

async function ver(c: Ctx, stream: string): Promise<string | null> {
  return redis.hget(c.pk.ver, stream);
}

async function redisNowMs(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe('reserve', () => {
  it.each([
    // [expected, version before (-1: no stream), answer]
    ['any', -1, { kind: 'ok', first: 0, last: 1 }],
    ['any', 4, { kind: 'ok', first: 5, last: 6 }],
    ['no_stream', -1, { kind: 'ok', first: 0, last: 1 }],
    ['no_stream', 0, { kind: 'conflict', actual: 0 }],
    ['stream_exists', -1, { kind: 'conflict', actual: -1 }],
    ['stream_exists', 0, { kind: 'ok', first: 1, last: 2 }],
    [-1, -1, { kind: 'ok', first: 0, last: 1 }],
    [-1, 2, { kind: 'conflict', actual: 2 }],
    [4, 4, { kind: 'ok', first: 5, last: 6 }],
    [3, 4, { kind: 'conflict', actual: 4 }],
    [5, 4, { kind: 'conflict', actual: 4 }],
    [0, -1, { kind: 'conflict', actual: -1 }],
  ] as const)('expected %j on a stream at %j answers %j', async (expected, before, answer) => {
    const c = await fresh();
    if (before >= 0) await redis.hset(c.pk.ver, 'order-1', before);
    const ids = events(2);
    expect(await doReserve(c, 'r1', [{ stream: 'order-1', expected, events: ids }])).toEqual([answer]);
    // The script's compare-and-swap and the TypeScript rule (guard/append/expectedVersion.ts) decide alike.
    expect(answer.kind === 'ok').toBe(matchesExpectedVersion(expected, before));
    if (answer.kind === 'ok') {
      expect(await ver(c, 'order-1')).toBe(String(answer.last));
      expect(await redis.hget(c.pk.lock, 'order-1')).toBe(`r1|${before}`);
      expect(await redis.hexists(c.pk.res, 'r1')).toBe(1);
    } else {
      expect(await ver(c, 'order-1')).toBe(before >= 0 ? String(before) : null);
      expect(await redis.hexists(c.pk.lock, 'order-1')).toBe(0);
    }
  });

  it('a call in which every append conflicts writes nothing at all', async () => {
    const c = await fresh();
    await redis.hset(c.pk.ver, 'order-1', 7, 'order-2', 0);
    const before = await snapshot(c.keys);
    expect(
      await doReserve(c, 'r1', [
        { stream: 'order-1', expected: 3, events: events(1) },
        { stream: 'order-2', expected: 'no_stream', events: events(1) },
        { stream: 'order-3', expected: 'stream_exists', events: events(1) },
      ]),
    ).toEqual([
      { kind: 'conflict', actual: 7 },
      { kind: 'conflict', actual: 0 },
      { kind: 'conflict', actual: -1 },
    ]);
    expect(await snapshot(c.keys)).toEqual(before);
  });

  it('several appends to one stream in one call get consecutive versions under one lock', async () => {
    const c = await fresh();
    await redis.hset(c.pk.ver, 'order-2', 9);
    const answers = await doReserve(c, 'r1', [
      { stream: 'order-1', expected: 'no_stream', events: events(2) },
      { stream: 'order-2', expected: 9, events: events(1) },
      { stream: 'order-1', expected: 1, events: events(3) },
      { stream: 'order-1', expected: 'any', events: events(1) },
      // would conflict only with versions reserved earlier in the same call: waits for them to settle (issue 12)
      { stream: 'order-1', expected: 1, events: events(1) },
    ]);
    expect(answers).toEqual([
      { kind: 'ok', first: 0, last: 1 },
      { kind: 'ok', first: 10, last: 10 },
      { kind: 'ok', first: 2, last: 4 },
      { kind: 'ok', first: 5, last: 5 },
      { kind: 'busy', holder: 'r1', expired: false },
    ]);
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-1': '5', 'order-2': '10' });
    // the lock and the reservation keep the version from before the call, once per stream
    expect(await redis.hgetall(c.pk.lock)).toEqual({ 'order-1': 'r1|-1', 'order-2': 'r1|9' });
    const [r] = await reservations(redis, c.pk);
    expect(r?.streams).toEqual([
      { stream: 'order-1', prev: -1 },
      { stream: 'order-2', prev: 9 },
    ]);
  });

  it("answers 'busy' for a stream another reservation holds: not expired before its deadline, expired after", async () => {
    const c = await fresh();
    expect(
      await doReserve(c, 'r1', [{ stream: 'order-1', expected: 'any', events: events(1) }], { ttlMs: 10_000 }),
    ).toEqual([{ kind: 'ok', first: 0, last: 0 }]);
    expect(
      // long enough for the snapshot below, a SCAN of a shared Redis that may hold many keys on a loaded machine
      await doReserve(c, 'r2', [{ stream: 'order-2', expected: 'any', events: events(1) }], { ttlMs: 1500 }),
    ).toEqual([{ kind: 'ok', first: 0, last: 0 }]);
    const before = await snapshot(c.keys);
    const [deadline2] = (await reservations(redis, c.pk)).filter((r) => r.resId === 'r2').map((r) => r.deadlineMs);
    const busy = () =>
      doReserve(c, 'r3', [
        { stream: 'order-1', expected: 'any', events: events(1) },
        { stream: 'order-2', expected: 0, events: events(1) },
      ]);
    expect(await busy()).toEqual([
      { kind: 'busy', holder: 'r1', expired: false },
      { kind: 'busy', holder: 'r2', expired: false },
    ]);
    // busy answers reserve nothing
    expect(await snapshot(c.keys)).toEqual(before);
    await waitFor('r2 to pass its deadline', async () => (await redisNowMs()) > (deadline2 as number), 5_000, 20);
    expect(await busy()).toEqual([
      { kind: 'busy', holder: 'r1', expired: false },
      { kind: 'busy', holder: 'r2', expired: true },
    ]);
  });

  it('a lock whose reservation record is missing is answered as busy and expired', async () => {
    const c = await fresh();
    await redis.hset(c.pk.lock, 'order-1', 'ghost|4');
    expect(await doReserve(c, 'r1', [{ stream: 'order-1', expected: 'any', events: events(1) }])).toEqual([
      { kind: 'busy', holder: 'ghost', expired: true },
    ]);
  });

  it('an id reserved earlier in the same call makes a later append busy (on its own reservation)', async () => {
    const c = await fresh();
    const [shared] = events(1, 'shared');
    const s = shared as { id: string; hash: string };
    const answers = await doReserve(c, 'r1', [
      // a conflicting append reserves nothing, so its ids do not count
      { stream: 'order-9', expected: 'stream_exists', events: [s] },
      { stream: 'order-1', expected: 'any', events: [s, ...events(1)] },
      { stream: 'order-2', expected: 'any', events: [...events(1), s] },
      { stream: 'order-1', expected: 'any', events: [{ id: s.id, hash: 'other' }] },
    ]);
    expect(answers).toEqual([
      { kind: 'conflict', actual: -1 },
      { kind: 'ok', first: 0, last: 1 },
      { kind: 'busy', holder: 'r1', expired: false },
      { kind: 'busy', holder: 'r1', expired: false },
    ]);
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-1': '1' });
    expect(await redis.hgetall(c.pk.lock)).toEqual({ 'order-1': 'r1|-1' });
  });

  describe('idempotency after confirm', () => {
    async function written(): Promise<{ c: Ctx; a: { id: string; hash: string }; b: { id: string; hash: string } }> {
      const c = await fresh();
      const [a, b] = events(2) as [{ id: string; hash: string }, { id: string; hash: string }];
      await redis.hset(c.pk.ver, 'order-1', 4);
      expect(await doReserve(c, 'r1', [{ stream: 'order-1', expected: 4, events: [a, b] }])).toEqual([
        { kind: 'ok', first: 5, last: 6 },
      ]);
      expect(await doConfirm(c, 'r1', [{ stream: 'order-1', first: 5, events: [a, b] }], 20)).toBe('ok');
      return { c, a, b };
    }

    it("the same ids and hashes are answered 'dup' with the first write's versions and position, writing nothing", async () => {
      const { c, a, b } = await written();
      const before = await snapshot(c.keys);
      // whatever the retry expects: it is answered from the first write
      for (const expected of ['any', 'no_stream', 4, 9] as const) {
        expect(await doReserve(c, `r-${expected}`, [{ stream: 'order-1', expected, events: [a, b] }])).toEqual([
          { kind: 'dup', first: 5, last: 6, topic: TOPIC, partition: PARTITION, offset: 21 },
        ]);
      }
      expect(await snapshot(c.keys)).toEqual(before);
    });

    it('is answered even while another reservation holds the stream', async () => {
      const { c, a, b } = await written();
      expect(await doReserve(c, 'r2', [{ stream: 'order-1', expected: 'any', events: events(1) }])).toEqual([
        { kind: 'ok', first: 7, last: 7 },
      ]);
      expect(await doReserve(c, 'r3', [{ stream: 'order-1', expected: 'any', events: [a, b] }])).toEqual([
        { kind: 'dup', first: 5, last: 6, topic: TOPIC, partition: PARTITION, offset: 21 },
      ]);
    });

    it.each([
      [
        'another hash',
        'order-1',
        (a: { id: string; hash: string }, b: { id: string; hash: string }) => [a, { ...b, hash: 'x' }],
        1,
        /other content/,
      ],
      [
        'another stream',
        'order-2',
        (a: { id: string; hash: string }, b: { id: string; hash: string }) => [a, b],
        0,
        /another stream/,
      ],
      [
        'ids partly known',
        'order-1',
        (a: { id: string; hash: string }) => [{ id: 'new-1', hash: 'n' }, a],
        1,
        /another append/,
      ],
      [
        'known ids out of order',
        'order-1',
        (a: { id: string; hash: string }, b: { id: string; hash: string }) => [b, a],
        1,
        /another append/,
      ],
    ] as const)('%s is an idconflict naming the id', async (_what, stream, evs, which, why) => {
      const { c, a, b } = await written();
      const list = evs(a, b);
      const before = await snapshot(c.keys);
      const answers = await doReserve(c, 'r2', [{ stream, expected: 'any', events: list }]);
      if (answers === 'stale') throw new Error('unexpected stale');
      const [answer] = answers;
      expect(answer).toMatchObject({ kind: 'idconflict', eventId: list[which]?.id });
      expect(answer && 'why' in answer ? answer.why : '').toMatch(why);
      expect(await snapshot(c.keys)).toEqual(before);
    });
  });
});

describe('stale state', () => {
  async function withReservation(): Promise<Ctx> {
    const c = await fresh();
    await redis.set(c.pk.wm, '10');
    expect(await doReserve(c, 'r1', [{ stream: 'order-1', expected: 'any', events: events(2) }])).toEqual([
      { kind: 'ok', first: 0, last: 1 },
    ]);
    return c;
  }

  /** Every script that decides something, called with `v`. */
  function calls(c: Ctx, v: Validated) {
    const applied: AppliedEvent = {
      id: 'x-1',
      stream: 'order-5',
      version: 9,
      offset: 30,
      hash: 'h',
      timeMs: Date.now(),
    };
    return {
      reserve: () => doReserve(c, 'r2', [{ stream: 'order-2', expected: 'any', events: events(1) }], { v }),
      confirm: () => doConfirm(c, 'r1', [{ stream: 'order-1', first: 0, events: events(2) }], 50, { v }),
      apply: () =>
        apply(redis, c.keys, c.pk, v, { windowMs: WINDOW, topic: TOPIC, partition: PARTITION, watermark: 40 }, [
          applied,
        ]),
      resolveForward: () => resolve(redis, c.keys, c.pk, v, 'r1', true),
      resolveBack: () => resolve(redis, c.keys, c.pk, v, 'r1', false),
    };
  }

  it.each([
    ['another generation', (v: Validated) => ({ ...v, gen: 'gen-0' })],
    ['another Redis run id (a restarted or failed-over server)', (v: Validated) => ({ ...v, runId: FAKE_RUN_ID })],
    ['a rebuild gen whose holder holds no rebuild lease', (v: Validated) => ({ ...v, gen: 'rebuild:guard-a' })],
  ])("with %s every script answers 'stale' and writes nothing", async (_what, wrong) => {
    const c = await withReservation();
    const before = await snapshot(c.keys);
    for (const [name, call] of Object.entries(calls(c, wrong(c.v)))) {
      expect([name, await call()]).toEqual([name, 'stale']);
    }
    expect(await snapshot(c.keys)).toEqual(before);
  });

  it('a generation record written on an earlier server run is stale whatever run id is claimed', async () => {
    const c = await withReservation();
    await redis.set(c.keys.gen, `${c.v.gen}|${FAKE_RUN_ID}`);
    const before = await snapshot(c.keys);
    expect(await calls(c, c.v).reserve()).toBe('stale');
    expect(await calls(c, { ...c.v, runId: FAKE_RUN_ID }).reserve()).toBe('stale');
    expect(await calls(c, { ...c.v, runId: FAKE_RUN_ID }).confirm()).toBe('stale');
    expect(await snapshot(c.keys)).toEqual(before);
  });

  it('gen rebuild:<holder> works only while the rebuild lease holds that holder (and on this server run)', async () => {
    const c = await withReservation();
    const rebuilding: Validated = { gen: 'rebuild:guard-a', runId };
    // the generation record does not matter while rebuilding: it may be missing altogether
    await redis.del(c.keys.gen);
    await redis.set(c.keys.rebuild, 'guard-b');
    expect(await calls(c, rebuilding).reserve()).toBe('stale');
    await redis.set(c.keys.rebuild, 'guard-a');
    expect(await calls(c, { ...rebuilding, runId: FAKE_RUN_ID }).reserve()).toBe('stale');
    expect(await calls(c, rebuilding).reserve()).toEqual([{ kind: 'ok', first: 0, last: 0 }]);
    expect(await calls(c, rebuilding).apply()).toBe('applied');
    expect(await calls(c, rebuilding).resolveForward()).toBe('forward');
    // the lease lapses (or another guard takes it): the holder's writes stop at once
    await redis.del(c.keys.rebuild);
    const before = await snapshot(c.keys);
    expect(await calls(c, rebuilding).reserve()).toBe('stale');
    expect(await calls(c, rebuilding).apply()).toBe('stale');
    expect(await snapshot(c.keys)).toEqual(before);
    // and the ordinary generation is not accepted either while its record is missing
    expect(await calls(c, c.v).reserve()).toBe('stale');
  });
});

describe('confirm', () => {
  it('lifts the locks, records the ids and their positions, drops the reservation and moves the watermark', async () => {
    const c = await fresh();
    await redis.set(c.pk.wm, '15');
    const [a, b, d] = events(3) as { id: string; hash: string }[];
    expect(
      await doReserve(c, 'r1', [
        {
          stream: 'order-1',
          expected: 'any',
          events: [a as { id: string; hash: string }, b as { id: string; hash: string }],
        },
        { stream: 'order-2', expected: 'any', events: [d as { id: string; hash: string }] },
      ]),
    ).toHaveLength(2);
    const t0 = await redisNowMs();
    expect(
      await doConfirm(
        c,
        'r1',
        [
          { stream: 'order-1', first: 0, events: [a, b] as { id: string; hash: string }[] },
          { stream: 'order-2', first: 0, events: [d] as { id: string; hash: string }[] },
        ],
        20,
      ),
    ).toBe('ok');
    expect(await redis.hgetall(c.pk.lock)).toEqual({});
    expect(await redis.hgetall(c.pk.res)).toEqual({});
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-1': '1', 'order-2': '0' });
    expect(await lookupId(redis, c.pk, a?.id as string)).toEqual({ version: 0, offset: 20 });
    expect(await lookupId(redis, c.pk, b?.id as string)).toEqual({ version: 1, offset: 21 });
    expect(await lookupId(redis, c.pk, d?.id as string)).toEqual({ version: 0, offset: 22 });
    // in-flight marks lifted
    expect(await redis.hlen(c.pk.fly)).toBe(0);
    expect(await redis.hlen(c.pk.flr)).toBe(0);
    const ring = await redis.hgetall(c.pk.idm);
    const time = Number(ring[`t${ring.cur}`]);
    expect(time).toBeGreaterThanOrEqual(t0);
    expect(time).toBeLessThanOrEqual(t0 + 5_000);
    expect(await redis.get(c.pk.wm)).toBe('22');
    // the streams are free again
    expect(await doReserve(c, 'r2', [{ stream: 'order-1', expected: 1, events: events(1) }])).toEqual([
      { kind: 'ok', first: 2, last: 2 },
    ]);
  });

  it('moves the watermark only forward', async () => {
    const c = await fresh();
    await redis.set(c.pk.wm, '100');
    const e = events(1);
    await doReserve(c, 'r1', [{ stream: 'order-1', expected: 'any', events: e }]);
    // a transaction that committed earlier, confirmed late: its offset is below the watermark
    expect(await doConfirm(c, 'r1', [{ stream: 'order-1', first: 0, events: e }], 50)).toBe('ok');
    expect(await redis.get(c.pk.wm)).toBe('100');
    const f = events(1);
    await doReserve(c, 'r2', [{ stream: 'order-1', expected: 0, events: f }]);
    expect(await doConfirm(c, 'r2', [{ stream: 'order-1', first: 1, events: f }], 101)).toBe('ok');
    expect(await redis.get(c.pk.wm)).toBe('101');
  });

  it("answers 'gone' for a reservation it does not know, and writes nothing", async () => {
    const c = await fresh();
    await doReserve(c, 'r1', [{ stream: 'order-1', expected: 'any', events: events(1) }]);
    const before = await snapshot(c.keys);
    expect(await doConfirm(c, 'nope', [{ stream: 'order-1', first: 0, events: events(1) }], 7)).toBe('gone');
    expect(await snapshot(c.keys)).toEqual(before);
  });

  it('lifts only the locks its reservation still holds', async () => {
    const c = await fresh();
    const e = events(1);
    await doReserve(c, 'r1', [
      { stream: 'order-1', expected: 'any', events: e },
      { stream: 'order-2', expected: 'any', events: events(1) },
    ]);
    await redis.hset(c.pk.lock, 'order-2', 'r9|0');
    expect(await doConfirm(c, 'r1', [{ stream: 'order-1', first: 0, events: e }], 1)).toBe('ok');
    expect(await redis.hgetall(c.pk.lock)).toEqual({ 'order-2': 'r9|0' });
  });

  /** Writes `appends` appends of `size` events each to one stream, each its own reserve and confirm. */
  async function writeMany(c: Ctx, stream: string, appends: number, size: number, options = {}) {
    const written: { id: string; hash: string }[][] = [];
    for (let k = 0; k < appends; k++) {
      const e = events(size, 'm');
      const answers = await doReserve(c, `m${k}`, [{ stream, expected: 'any', events: e }]);
      const first = answers === 'stale' ? -1 : ((answers[0] as { first: number }).first ?? -1);
      expect(await doConfirm(c, `m${k}`, [{ stream, first, events: e }], 1000 + k * size, options)).toBe('ok');
      written.push(e);
    }
    return written;
  }

  it('keeps at most the memory bound per partition, forgetting the oldest generation, an append as a whole', async () => {
    const c = await fresh();
    // 40 events at most: generations of 10; appends of 3 overrun a generation by up to 2
    const written = await writeMany(c, 'order-1', 40, 3, { maxEvents: 40 });
    const remembered = [];
    for (const e of written) {
      const found = await Promise.all(e.map((x) => lookupId(redis, c.pk, x.id)));
      const n = found.filter((f) => f !== undefined).length;
      expect([0, 3]).toContain(n);
      remembered.push(n === 3);
    }
    // the newest are remembered, the oldest not, with one cut between them
    expect(remembered.at(-1)).toBe(true);
    expect(remembered[0]).toBe(false);
    const cut = remembered.indexOf(true);
    expect(remembered.slice(cut).every(Boolean)).toBe(true);
    const kept = (remembered.length - cut) * 3;
    expect(kept).toBeGreaterThanOrEqual(30);
    expect(kept).toBeLessThanOrEqual(40 + 2);
    const ring = await redis.hgetall(c.pk.idm);
    expect(Number(ring.cur) - Number(ring.lo) + 1).toBeLessThanOrEqual(4);
    // forgotten ids may be used again
    const reused = written[0]?.[0] as { id: string; hash: string };
    expect(await doReserve(c, 'again', [{ stream: 'order-7', expected: 'any', events: [reused] }])).toEqual([
      { kind: 'ok', first: 0, last: 0 },
    ]);
  });

  it('forgets generations whose last write is older than the window', async () => {
    const c = await fresh();
    const [first] = await writeMany(c, 'order-1', 1, 2, { windowMs: 400 });
    expect(await lookupId(redis, c.pk, first?.[0]?.id as string)).toEqual({ version: 0, offset: 1000 });
    // the window is 400 ms, a generation spans 100 ms: past the window, the next write forgets it
    await new Promise((r) => setTimeout(r, 450));
    await writeMany(c, 'order-2', 1, 1, { windowMs: 400 });
    expect(await lookupId(redis, c.pk, first?.[0]?.id as string)).toBeUndefined();
    expect(await lookupId(redis, c.pk, first?.[1]?.id as string)).toBeUndefined();
  });

  it('stores an event in about 36 bytes: 16-byte field and 12-byte value in a listpack bucket', async () => {
    const c = await fresh();
    await writeMany(c, 'order-1', 30, 1);
    const ring = await redis.hgetall(c.pk.idm);
    const bucket = `${c.pk.idm}:${ring.cur}:0`;
    expect(await redis.object('ENCODING', bucket)).toBe('listpack');
    const [field, value] = (await redis.hrandfieldBuffer(bucket, 1, 'WITHVALUES')) as Buffer[];
    expect(field).toHaveLength(16);
    expect(value).toHaveLength(12);
  });
});

describe('release', () => {
  it('restores the versions from before the reservation, deleting those of streams it created', async () => {
    const c = await fresh();
    await redis.hset(c.pk.ver, 'order-old', 5, 'order-other', 2);
    const before = await snapshot(c.keys);
    const released = events(2);
    await doReserve(c, 'r1', [
      { stream: 'order-new', expected: 'no_stream', events: released },
      { stream: 'order-old', expected: 5, events: events(1) },
      { stream: 'order-old', expected: 6, events: events(1) },
    ]);
    expect(await release(redis, c.keys, c.pk, c.v, 'r1')).toBe('released');
    // The in-flight marks of the released ids go with it.
    expect(await snapshot(c.keys)).toEqual(before);
    expect(await release(redis, c.keys, c.pk, c.v, 'r1')).toBe('gone');
    const again = await doReserve(c, 'r2', [
      { stream: 'order-old', expected: 5, events: [{ id: released[0]?.id as string, hash: 'other' }] },
    ]);
    expect(again).toEqual([{ kind: 'ok', first: 6, last: 6 }]);
  });

  it('an id in flight on one stream cannot be taken by another stream meanwhile', async () => {
    const c = await fresh();
    const [e] = events(1);
    const ev = e as { id: string; hash: string };
    expect(await doReserve(c, 'r1', [{ stream: 'order-a', expected: 'any', events: [ev] }])).toEqual([
      { kind: 'ok', first: 0, last: 0 },
    ]);
    // not refused while r1 is open: had r1 been rolled back, the id would have been free (issue 12)
    expect(await doReserve(c, 'r2', [{ stream: 'order-b', expected: 'any', events: [ev] }])).toEqual([
      { kind: 'busy', holder: 'r1', expired: false },
    ]);
    // the same append again (a retry racing its first attempt) waits for it
    expect(await doReserve(c, 'r3', [{ stream: 'order-a', expected: 'any', events: [ev] }])).toEqual([
      { kind: 'busy', holder: 'r1', expired: false },
    ]);
  });

  describe('refusals are decided on settled state only (issue 12)', () => {
    // The race, seen once in five runs of guard/faults/brokerRestart: w2's append and w1's, both expecting 10, met
    // in one group commit. w2's reserved 11..12 and w1's was answered 409 (actual 12) at once. The group's
    // transaction then failed and the reservation was released: the 409 was about versions that never existed, and
    // w1's first attempt, still queued, was written at 11..12 after its retry had been told 409.
    it('a conflict with versions an earlier append of the same call reserved waits; after a release it is written', async () => {
      const c = await fresh();
      await redis.hset(c.pk.ver, 'order-1', 10);
      const w1 = events(2, 'w1');
      expect(
        await doReserve(c, 'r1', [
          { stream: 'order-1', expected: 10, events: events(2, 'w2') },
          { stream: 'order-1', expected: 10, events: w1 },
        ]),
      ).toEqual([
        { kind: 'ok', first: 11, last: 12 },
        { kind: 'busy', holder: 'r1', expired: false },
      ]);
      expect(await release(redis, c.keys, c.pk, c.v, 'r1')).toBe('released');
      expect(await doReserve(c, 'r2', [{ stream: 'order-1', expected: 10, events: w1 }])).toEqual([
        { kind: 'ok', first: 11, last: 12 },
      ]);
    });

    it('after a commit the same append is refused on the committed version', async () => {
      const c = await fresh();
      await redis.hset(c.pk.ver, 'order-1', 10);
      const w2 = events(2, 'w2');
      const w1 = events(2, 'w1');
      await doReserve(c, 'r1', [
        { stream: 'order-1', expected: 10, events: w2 },
        { stream: 'order-1', expected: 10, events: w1 },
      ]);
      await doConfirm(c, 'r1', [{ stream: 'order-1', first: 11, events: w2 }], 100);
      expect(await doReserve(c, 'r2', [{ stream: 'order-1', expected: 10, events: w1 }])).toEqual([
        { kind: 'conflict', actual: 12 },
      ]);
    });

    it('an id another append holds in flight waits; once that append is rolled back, the id is free', async () => {
      const c = await fresh();
      const [e] = events(1);
      const ev = e as { id: string; hash: string };
      await doReserve(c, 'r1', [{ stream: 'order-a', expected: 'any', events: [ev] }]);
      expect(await doReserve(c, 'r2', [{ stream: 'order-b', expected: 'any', events: [ev] }])).toEqual([
        { kind: 'busy', holder: 'r1', expired: false },
      ]);
      expect(await release(redis, c.keys, c.pk, c.v, 'r1')).toBe('released');
      expect(await doReserve(c, 'r3', [{ stream: 'order-b', expected: 'any', events: [ev] }])).toEqual([
        { kind: 'ok', first: 0, last: 0 },
      ]);
    });
  });

  it('touches only the streams whose lock it still holds', async () => {
    const c = await fresh();
    await redis.hset(c.pk.ver, 'order-1', 5);
    await doReserve(c, 'r1', [
      { stream: 'order-1', expected: 5, events: events(1) },
      { stream: 'order-2', expected: 'any', events: events(1) },
    ]);
    // order-1's lock now belongs to another reservation (as after a resolve and a new reserve)
    await redis.hset(c.pk.lock, 'order-1', 'r2|6');
    await redis.hset(c.pk.ver, 'order-1', 8);
    expect(await release(redis, c.keys, c.pk, c.v, 'r1')).toBe('released');
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-1': '8' });
    expect(await redis.hgetall(c.pk.lock)).toEqual({ 'order-1': 'r2|6' });
    expect(await redis.hgetall(c.pk.res)).toEqual({});
  });
});

describe('resolve', () => {
  async function reserved(): Promise<Ctx> {
    const c = await fresh();
    await redis.hset(c.pk.ver, 'order-old', 5);
    await doReserve(c, 'r1', [
      { stream: 'order-new', expected: 'any', events: events(2) },
      { stream: 'order-old', expected: 5, events: events(3) },
    ]);
    return c;
  }

  it("found: keeps the versions and lifts the locks ('forward')", async () => {
    const c = await reserved();
    expect(await resolve(redis, c.keys, c.pk, c.v, 'r1', true)).toBe('forward');
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-new': '1', 'order-old': '8' });
    expect(await redis.hgetall(c.pk.lock)).toEqual({});
    expect(await redis.hgetall(c.pk.res)).toEqual({});
  });

  it("not found: restores the versions ('back')", async () => {
    const c = await reserved();
    expect(await resolve(redis, c.keys, c.pk, c.v, 'r1', false)).toBe('back');
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-old': '5' });
    expect(await redis.hgetall(c.pk.lock)).toEqual({});
    expect(await redis.hgetall(c.pk.res)).toEqual({});
  });

  it("answers 'gone' for a reservation that is not there, writing nothing", async () => {
    const c = await reserved();
    await resolve(redis, c.keys, c.pk, c.v, 'r1', true);
    const before = await snapshot(c.keys);
    expect(await resolve(redis, c.keys, c.pk, c.v, 'r1', false)).toBe('gone');
    expect(await resolve(redis, c.keys, c.pk, c.v, 'never', true)).toBe('gone');
    expect(await snapshot(c.keys)).toEqual(before);
  });

  // Known bug (see the report of this test's commit): after a Redis rollback, a rebuild applies events that
  // Kafka holds beyond an old reservation (written after it was rolled back), then resolves that reservation
  // 'back', which sets the version to the reservation's prev: below what Kafka holds. A compare-and-swap on that
  // older version would then succeed and write a version twice. Fixed by `seen`: apply remembers versions read
  // back for locked streams, and a roll-back never goes below them.
  it('not found, after apply moved a stream beyond the reservation, keeps the applied version', async () => {
    const c = await reserved();
    expect(
      await apply(redis, c.keys, c.pk, c.v, { windowMs: WINDOW, topic: TOPIC, partition: PARTITION, watermark: 60 }, [
        { id: 'later-1', stream: 'order-old', version: 6, offset: 50, hash: 'h', timeMs: Date.now() },
        { id: 'later-2', stream: 'order-old', version: 7, offset: 51, hash: 'h', timeMs: Date.now() },
        { id: 'later-3', stream: 'order-old', version: 8, offset: 52, hash: 'h', timeMs: Date.now() },
        { id: 'later-4', stream: 'order-old', version: 9, offset: 53, hash: 'h', timeMs: Date.now() },
      ]),
    ).toBe('applied');
    expect(await ver(c, 'order-old')).toBe('9');
    expect(await resolve(redis, c.keys, c.pk, c.v, 'r1', false)).toBe('back');
    expect(await ver(c, 'order-old')).toBe('9');
  });
});

describe('apply', () => {
  const applyEvents = (c: Ctx, watermark: number, list: AppliedEvent[], windowMs = WINDOW) =>
    apply(redis, c.keys, c.pk, c.v, { windowMs, topic: TOPIC, partition: PARTITION, watermark }, list);

  it('moves versions only forward', async () => {
    const c = await fresh();
    const now = Date.now();
    const e = (id: string, stream: string, version: number): AppliedEvent => ({
      id,
      stream,
      version,
      offset: version,
      hash: `h-${id}`,
      timeMs: now,
    });
    expect(await applyEvents(c, -1, [e('a', 'order-1', 3), e('b', 'order-2', 0), e('c', 'order-1', 1)])).toBe(
      'applied',
    );
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-1': '3', 'order-2': '0' });
    expect(await applyEvents(c, -1, [e('a', 'order-1', 3), e('d', 'order-1', 2), e('f', 'order-2', 4)])).toBe(
      'applied',
    );
    expect(await redis.hgetall(c.pk.ver)).toEqual({ 'order-1': '3', 'order-2': '4' });
  });

  it('records ids only within the window, scored by their event time', async () => {
    const c = await fresh();
    const now = await redisNowMs();
    expect(
      await applyEvents(
        c,
        -1,
        [
          { id: 'old', stream: 'order-1', version: 0, offset: 7, hash: 'h0', timeMs: now - 7_200_000 },
          { id: 'new', stream: 'order-1', version: 1, offset: 8, hash: 'h1', timeMs: now - 60_000 },
        ],
        3_600_000,
      ),
    ).toBe('applied');
    expect(await lookupId(redis, c.pk, 'old')).toBeUndefined();
    expect(await lookupId(redis, c.pk, 'new')).toEqual({ version: 1, offset: 8 });
    const ring = await redis.hgetall(c.pk.idm);
    expect(ring[`t${ring.cur}`]).toBe(String(now - 60_000));
    // the version moves all the same
    expect(await ver(c, 'order-1')).toBe('1');
  });

  it('keeps the highest watermark (-1 leaves it alone)', async () => {
    const c = await fresh();
    const marks: [number, string | null][] = [
      [-1, null],
      [10, '10'],
      [-1, '10'],
      [5, '10'],
      [12, '12'],
    ];
    for (const [watermark, after] of marks) {
      expect(await applyEvents(c, watermark, [])).toBe('applied');
      expect(await redis.get(c.pk.wm)).toBe(after);
    }
  });

  it('leaves locks and reservations alone', async () => {
    const c = await fresh();
    await doReserve(c, 'r1', [{ stream: 'order-1', expected: 'any', events: events(1) }]);
    const lock = await redis.hgetall(c.pk.lock);
    const res = await redis.hgetall(c.pk.res);
    await applyEvents(c, 3, [{ id: 'z', stream: 'order-1', version: 4, offset: 3, hash: 'h', timeMs: Date.now() }]);
    expect(await redis.hgetall(c.pk.lock)).toEqual(lock);
    expect(await redis.hgetall(c.pk.res)).toEqual(res);
  });
});

describe('parseReservation', () => {
  it('reads back what reserve wrote: slot, deadline, watermark, probe id and streams with their prev', async () => {
    const c = await fresh();
    await redis.set(c.pk.wm, '41');
    await redis.hset(c.pk.ver, 'order-2', 7, 'order-3', 1);
    const [a, b] = events(2) as [{ id: string; hash: string }, { id: string; hash: string }];
    const t0 = await redisNowMs();
    expect(
      await doReserve(
        c,
        'g1.w0.3.17',
        [
          // the first append conflicts: the probe is the first id of the first append that reserved
          { stream: 'order-3', expected: 0, events: events(1) },
          { stream: 'order-2', expected: 7, events: [a] },
          { stream: 'order-1:x@y.z-w', expected: 'no_stream', events: [b] },
        ],
        { slot: 11, ttlMs: 5_000 },
      ),
    ).toEqual([
      { kind: 'conflict', actual: 1 },
      { kind: 'ok', first: 8, last: 8 },
      { kind: 'ok', first: 0, last: 0 },
    ]);
    const t1 = await redisNowMs();
    const text = (await redis.hget(c.pk.res, 'g1.w0.3.17')) as string;
    const r = parseReservation('g1.w0.3.17', text);
    expect(r).toEqual({
      resId: 'g1.w0.3.17',
      slot: 11,
      deadlineMs: expect.any(Number),
      watermark: 41,
      probeId: a.id,
      streams: [
        { stream: 'order-2', prev: 7 },
        { stream: 'order-1:x@y.z-w', prev: -1 },
      ],
    });
    expect(r.deadlineMs).toBeGreaterThanOrEqual(t0 + 5_000);
    expect(r.deadlineMs).toBeLessThanOrEqual(t1 + 5_000);
    expect(await reservations(redis, c.pk)).toEqual([r]);
  });

  it('a partition without a watermark is recorded as -1; a call that reserved nothing leaves no record', async () => {
    const c = await fresh();
    await doReserve(c, 'r0', [{ stream: 'order-1', expected: 'stream_exists', events: events(1) }]);
    expect(await reservations(redis, c.pk)).toEqual([]);
    await doReserve(c, 'r1', [{ stream: 'order-1', expected: 'any', events: events(1) }]);
    const [r] = await reservations(redis, c.pk);
    expect(r?.watermark).toBe(-1);
  });
});
