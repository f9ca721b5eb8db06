/**
 * bench:idempotency — what the guard's idempotency window costs in Redis (issue 13, item 5: at most 40 bytes an
 * appended event in steady state). Drives the guard's own reserve and confirm scripts (guard/protocol/redisState.ts)
 * under a fresh key prefix, as the writer does: group commits of `--batch` one-event appends per partition, all
 * partitions in one pipeline, uuid v4 ids over `--streams` streams. No Kafka: offsets are counted per partition.
 *
 *   npm run bench:idempotency -- [--events 1200000] [--partitions 12] [--streams 10000] [--batch 256]
 *                                [--steady-max 100000] [--baseline <built checkout>] [--redis-url <url>]
 *                                [--format table|json|csv]
 *
 * Phases, each on its own prefix:
 *   fill    `--events` appends, the bound 4/3 of what each partition gets (nothing is forgotten): bytes per event
 *   steady  a bound of `--steady-max` events per partition and three times that many appended per partition, so the
 *           ring has rotated and forgotten its oldest generations: bytes per remembered event
 * Bytes are MEMORY USAGE (SAMPLES 0) summed over the window's keys; also the server's used_memory delta. Redis CPU is
 * the server's used_cpu_user + used_cpu_sys over the phase, per append: exact only on a Redis nobody else uses
 * (`--redis-url` to a private one). `--baseline` first runs the fill phase with the scripts of another built checkout
 * (before the compact window: one global `ids` hash and `idx` sorted set), on the same Redis.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import type { ChainableCommander, Redis } from 'ioredis';
import { serverRunId } from '../guard/protocol/generation.js';
import { type WindowShape, windowShape } from '../guard/protocol/idWindow.js';
import { KeySpace } from '../guard/protocol/keys.js';
import {
  type ConfirmEvent,
  confirm,
  defineScripts,
  parseReserve,
  type ReserveAppend,
  reserve,
} from '../guard/protocol/redisState.js';
import { loadConfig } from '../pipeline/config/config.js';
import { type Column, renderRows } from '../pipeline/output/textOutput.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { deleteRedisKeys } from './support/cleanUp.js';
import { newRunId, progress, runMain } from './support/run.js';

const TOPIC = 'bench';

/** The scripts measured: this checkout's, or an older checkout's. Each on its own client (one definition per name). */
interface Impl {
  name: string;
  client: Redis;
  reserve(sender: ChainableCommander, prefix: string, partition: number, resId: string, appends: ReserveAppend[]): void;
  confirm(
    sender: ChainableCommander,
    prefix: string,
    partition: number,
    c: { resId: string; window: WindowShape; lastOffset: number },
    events: ConfirmEvent[],
  ): void;
  /** The window's keys under `prefix`, and how many events they remember. */
  windowKeys(prefix: string, partitions: number): Promise<{ keys: string[]; remembered: number }>;
}

interface Options {
  events: number;
  partitions: number;
  streams: number;
  batch: number;
  steadyMax: number;
}

interface Row {
  scripts: string;
  phase: string;
  appended: number;
  remembered: number;
  keys: number;
  listpack: string;
  bytes: number;
  bytesPerAppended: number;
  bytesPerRemembered: number;
  usedMemoryDelta: number;
  appendsPerSecond: number;
  redisCpuUs: number;
}

const V = { gen: 'bench', runId: '' };

async function phase(impl: Impl, name: string, total: number, window: WindowShape, o: Options): Promise<Row> {
  const redis = impl.client;
  const prefix = `bench_${newRunId()}:`;
  await redis.set(`${prefix}{g}:gen`, `${V.gen}|${V.runId}`);
  const usedBefore = await usedMemory(redis);
  const cpuBefore = await usedCpu(redis);
  const offsets = new Array<number>(o.partitions).fill(0);
  const started = Date.now();
  let seq = 0;
  try {
    for (let done = 0; done < total; ) {
      const perPartition = Math.min(o.batch, Math.ceil((total - done) / o.partitions));
      const groups = Array.from({ length: o.partitions }, () =>
        Array.from({ length: perPartition }, () => ({
          stream: `order-${Math.floor(Math.random() * o.streams)}`,
          expected: 'any' as const,
          events: [{ id: randomUUID(), hash: randomUUID().slice(0, 22) }],
        })),
      );
      const resId = `r${++seq}`;
      const reserving = redis.pipeline();
      for (const [p, appends] of groups.entries()) impl.reserve(reserving, prefix, p, resId, appends);
      const reserved = (await reserving.exec()) ?? [];
      const confirming = redis.pipeline();
      groups.forEach((appends, p) => {
        const answers = parseReserve(reserved[p]?.[1]);
        if (answers === 'stale') throw new Error('stale state');
        let offset = offsets[p] ?? 0;
        const events: ConfirmEvent[] = appends.map((a, k) => {
          const answer = answers[k];
          if (answer?.kind !== 'ok') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
          const e = a.events[0] as { id: string; hash: string };
          return { id: e.id, stream: a.stream, version: answer.first, offset: offset++, hash: e.hash };
        });
        offsets[p] = offset + 1; // after the commit marker
        impl.confirm(confirming, prefix, p, { resId, window, lastOffset: offset - 1 }, events);
        done += appends.length;
      });
      for (const [error, answer] of (await confirming.exec()) ?? []) {
        if (error || answer !== 'ok') throw error ?? new Error(`confirm answered ${String(answer)}`);
      }
      if (seq % 100 === 0) progress(`${impl.name} ${name}: ${done} / ${total}`);
    }
    const seconds = (Date.now() - started) / 1000;
    const cpuSeconds = (await usedCpu(redis)) - cpuBefore;
    // only the window's keys: the streams' versions (ver) are there with or without it
    const m = await measure(redis, await impl.windowKeys(prefix, o.partitions));
    return {
      scripts: impl.name,
      phase: name,
      appended: total,
      remembered: m.remembered,
      keys: m.keys,
      listpack: `${m.listpack}/${m.hashes}`,
      bytes: m.bytes,
      bytesPerAppended: round(m.bytes / total),
      bytesPerRemembered: round(m.bytes / m.remembered),
      usedMemoryDelta: (await usedMemory(redis)) - usedBefore,
      appendsPerSecond: Math.round(total / seconds),
      redisCpuUs: round((cpuSeconds * 1e6) / total),
    };
  } finally {
    await deleteRedisKeys(redis, prefix);
  }
}

/** MEMORY USAGE summed over `keys`, and how many of them are listpack-encoded hashes. */
async function measure(redis: Redis, window: { keys: string[]; remembered: number }) {
  let bytes = 0;
  let keys = 0;
  let hashes = 0;
  let listpack = 0;
  for (const key of window.keys) {
    const used = await redis.memory('USAGE', key, 'SAMPLES', 0);
    if (used === null) continue;
    bytes += Number(used);
    keys++;
    if ((await redis.type(key)) !== 'hash') continue;
    hashes++;
    if ((await redis.object('ENCODING', key)) === 'listpack') listpack++;
  }
  return { bytes, keys, hashes, listpack, remembered: window.remembered };
}

/** This checkout: per partition the ring (`i`), its buckets and the in-flight marks. */
function compactImpl(client: Redis): Impl {
  defineScripts(client);
  const pkOf = (prefix: string, p: number) => new KeySpace(prefix).partition(TOPIC, p);
  return {
    name: 'compact',
    client,
    reserve: (sender, prefix, p, resId, appends) =>
      void reserve(sender, new KeySpace(prefix), pkOf(prefix, p), V, { resId, slot: 0, ttlMs: 60_000 }, appends),
    confirm: (sender, prefix, p, c, events) =>
      void confirm(sender, new KeySpace(prefix), pkOf(prefix, p), V, c, events),
    async windowKeys(prefix, partitions) {
      const keys: string[] = [];
      let remembered = 0;
      for (let p = 0; p < partitions; p++) {
        const pk = pkOf(prefix, p);
        keys.push(pk.idm, pk.fly, pk.flr);
        const ring = await client.hgetall(pk.idm);
        for (let g = Number(ring.lo); g <= Number(ring.cur); g++) {
          remembered += Number(ring[`n${g}`] ?? 0);
          for (let b = 0; b < Number(ring[`b${g}`] ?? 0); b++) keys.push(`${pk.idm}:${g}:${b}`);
        }
      }
      return { keys, remembered };
    },
  };
}

/** An older checkout's scripts, loaded from its dist/: one global `ids` hash and `idx` sorted set. */
async function baselineImpl(root: string, client: Redis): Promise<Impl> {
  type Fn = (...args: unknown[]) => unknown;
  const state = (await import(pathToFileURL(join(root, 'dist/guard/protocol/redisState.js')).href)) as Record<
    'confirm' | 'defineScripts' | 'reserve',
    Fn
  >;
  const { KeySpace: OldKeySpace } = (await import(pathToFileURL(join(root, 'dist/guard/protocol/keys.js')).href)) as {
    KeySpace: new (prefix: string) => { ids: string; idx: string; partition(t: string, p: number): unknown };
  };
  state.defineScripts(client);
  return {
    name: 'baseline',
    client,
    reserve: (sender, prefix, p, resId, appends) => {
      const keys = new OldKeySpace(prefix);
      state.reserve(sender, keys, keys.partition(TOPIC, p), V, { resId, slot: 0, ttlMs: 60_000 }, appends);
    },
    confirm: (sender, prefix, p, c, events) => {
      const keys = new OldKeySpace(prefix);
      const old = { resId: c.resId, windowMs: c.window.windowMs, topic: TOPIC, partition: p, lastOffset: c.lastOffset };
      state.confirm(sender, keys, keys.partition(TOPIC, p), V, old, events);
    },
    async windowKeys(prefix) {
      const keys = new OldKeySpace(prefix);
      return { keys: [keys.ids, keys.idx], remembered: await client.hlen(keys.ids) };
    },
  };
}

async function usedCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

const round = (n: number) => Math.round(n * 10) / 10;

runMain(
  'bench:idempotency',
  async () => {
    const flags = new Command()
      .option('--events <n>', 'appends in the fill phase', '1200000')
      .option('--partitions <n>', 'partitions', '12')
      .option('--streams <n>', 'streams', '10000')
      .option('--batch <n>', 'appends per partition and group commit', '256')
      .option('--steady-max <n>', 'memory bound per partition in the steady phase', '100000')
      .option('--baseline <checkout>', 'also run the fill phase with the scripts of this built checkout, first')
      .option('--redis-url <url>', 'a Redis of its own (the CPU figure is exact only there)')
      .option('--format <format>', 'table, json or csv', 'table')
      .parse()
      .opts<Record<string, string | undefined>>();
    const o: Options = {
      events: Number(flags.events),
      partitions: Number(flags.partitions),
      streams: Number(flags.streams),
      batch: Number(flags.batch),
      steadyMax: Number(flags.steadyMax),
    };
    const config = loadConfig({ overrides: flags.redisUrl ? { REDIS_URL: flags.redisUrl } : {} });
    const clients: Redis[] = [];
    const client = () => {
      clients.push(createRedis(config));
      return clients.at(-1) as Redis;
    };
    try {
      const main = client();
      V.runId = await serverRunId(main);
      progress(`redis ${JSON.stringify(await main.config('GET', 'hash-max-listpack-*'))}`);
      const day = 86_400_000;
      const fillBound = Math.ceil(((o.events / o.partitions) * 4) / 3);
      const rows: Row[] = [];
      if (flags.baseline) {
        const baseline = await baselineImpl(resolve(flags.baseline), client());
        rows.push(await phase(baseline, 'fill', o.events, windowShape(day, fillBound), o));
      }
      const compact = compactImpl(main);
      rows.push(await phase(compact, 'fill', o.events, windowShape(day, fillBound), o));
      rows.push(await phase(compact, 'steady', o.steadyMax * 3 * o.partitions, windowShape(day, o.steadyMax), o));
      const columns: Column<Row>[] = [
        { header: 'scripts', value: (r) => r.scripts, align: 'left' },
        { header: 'phase', value: (r) => r.phase, align: 'left' },
        { header: 'appended', value: (r) => r.appended },
        { header: 'remembered', value: (r) => r.remembered },
        { header: 'keys', value: (r) => r.keys },
        { header: 'listpack hashes', value: (r) => r.listpack },
        { header: 'bytes (MEMORY USAGE)', value: (r) => r.bytes },
        { header: 'B/appended', value: (r) => r.bytesPerAppended },
        { header: 'B/remembered', value: (r) => r.bytesPerRemembered },
        { header: 'used_memory delta', value: (r) => r.usedMemoryDelta },
        { header: 'appends/s', value: (r) => r.appendsPerSecond },
        { header: 'Redis CPU µs/append', value: (r) => r.redisCpuUs },
      ];
      process.stdout.write(`${renderRows(rows, columns, (flags.format ?? 'table') as 'table')}\n`);
      return 0;
    } finally {
      for (const c of clients) await c.quit();
    }
  },
  1000,
);
