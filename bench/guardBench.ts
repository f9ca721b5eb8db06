import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import { type Kafka, logLevel, type Producer } from 'kafkajs';
import { initTransactional } from '../guard/protocol/fencing.js';
import { partitionOf } from '../guard/protocol/partitioner.js';
import type { Expected } from '../guard/protocol/redisState.js';
import { type KesConfig, LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { contentHash } from '../pipeline/events/contentHash.js';
import { encodeHeaders } from '../pipeline/events/eventRecord.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { type Column, renderRows } from '../pipeline/output/textOutput.js';
import { type EventCatalog, openEventCatalog } from '../pipeline/schemas/eventCatalog.js';
import { HistoryWriter } from '../verify/history/history.js';
import { type CheckReport, renderReport, runCheck } from '../verify/history/report.js';
import { HttpLoadClient, type LoadAttempt, type LoadEvent } from '../verify/load/httpLoad.js';
import { percentile, toHistory } from '../verify/load/workload.js';
import { measureFloor, startHttpFloor } from './httpFloor.js';
import { formatNumber, positive, round, type Verdict } from './support/figures.js';
import { type GuardProcess, startGuardProcess, stopGuard, waitReady } from './support/guardProcesses.js';
import { machine, machinePercent, machineSeconds, stackPids, statCpuSeconds, waitQuiet } from './support/machine.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the code a guard runs lives: a change there shows in the figures' `code`. */
const CODE_DIRS = ['guard', 'pipeline', 'bin'];
const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);
const CATEGORY = 'account';
const RAW_CATEGORY = 'rawaccount';
const EVENT_TYPE = 'MoneyDeposited';
const P99_TARGET_MS = 50;
const RATIO_TARGET = 0.5;

// ---------------------------------------------------------------------------------------------------------------
// flags

interface Flags {
  duration: string;
  warmup: string;
  streams: string;
  clients: string;
  guards: string;
  format: 'table' | 'json';
  check: boolean;
  skipRaw: boolean;
  skipHttpFloor: boolean;
  skipOpenLoop: boolean;
  rawBatch: string;
  pool: string;
  openRate?: string;
  profile: boolean;
  keep: boolean;
  jsonOut?: string;
  quiet: string;
  quietWait: string;
  maxNoise: string;
  tries: string;
}

interface Options {
  durationMs: number;
  warmupMs: number;
  streams: number;
  clients: number[];
  guards: number;
  format: 'table' | 'json';
  check: boolean;
  skipRaw: boolean;
  skipHttpFloor: boolean;
  skipOpenLoop: boolean;
  rawBatches: ('max' | 'guard' | number)[];
  pool: number;
  openRate: number | undefined;
  profile: boolean;
  keep: boolean;
  jsonOut: string | undefined;
  quietPercent: number;
  quietWaitMs: number;
  maxNoise: number;
  tries: number;
}

function parseFlags(argv: readonly string[]): Options {
  const program = new Command('bench:guard')
    .description('guarded appends/s and latency vs the raw Kafka ceiling (docs/guard-benchmark.md)')
    .option('--duration <s>', 'measured seconds per phase', '10')
    .option('--warmup <s>', 'unmeasured seconds before each phase', '2')
    .option('--streams <n>', 'streams account-0 … account-<n-1>', '10000')
    .option('--clients <list>', 'closed-loop client counts, one phase each', '1,16,256')
    .option('--guards <n>', 'guard processes (clients are spread over them)', '1')
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json']).default('table'))
    .option('--check', 'log every attempt and run the history checker at the end', false)
    .option('--skip-raw', 'skip the raw Kafka ceiling', false)
    .option('--skip-open-loop', 'skip the half-peak open-loop phase', false)
    .option('--skip-http-floor', 'skip the HTTP floor (the same load against a server that does nothing)', false)
    .option(
      '--raw-batch <list>',
      "events per raw transaction, one raw phase each: a number, 'max' (KES_GUARD_MAX_BATCH_EVENTS) or 'guard' " +
        '(the mean group commit the guard reached at the most clients); the first is the ceiling',
      'max,guard',
    )
    .option('--open-rate <n>', 'appends/s of the open-loop phase (default: half the best closed-loop rate)')
    .option('--pool <n>', 'in-flight requests at most in the half-peak open-loop phase', '256')
    .option('--profile', 'run the guards under node --cpu-prof (profiles in the run directory)', false)
    .option('--keep', "keep the run's topics and Redis keys (default: deleted at the end)", false)
    .option(
      '--quiet <percent>',
      'before each phase, wait (up to --quiet-wait s) until the idle machine uses less CPU than this, % of one core',
      '40',
    )
    .option('--quiet-wait <s>', 'longest wait for a quiet machine before a phase (0: do not wait)', '120')
    .option('--max-noise <percent>', 'measure a phase again when other processes took more CPU than this', '30')
    .option('--tries <n>', 'attempts at most per phase (the least disturbed one is kept)', '3')
    .option('--json-out <file>', 'also write the JSON figures to this file (whatever --format says)')
    .parse([...argv]);
  const f = program.opts<Flags>();
  const clients = f.clients.trim() === '' ? [] : f.clients.split(',').map((c) => positive('--clients', c.trim()));
  const rawBatches = f.rawBatch.split(',').map((b) => {
    const t = b.trim();
    return t === 'max' || t === 'guard' ? t : positive('--raw-batch', t);
  });
  return {
    durationMs: positive('--duration', f.duration, false) * 1000,
    warmupMs: f.warmup.trim() === '0' ? 0 : positive('--warmup', f.warmup, false) * 1000,
    streams: positive('--streams', f.streams),
    clients,
    guards: positive('--guards', f.guards),
    format: f.format,
    check: f.check,
    skipRaw: f.skipRaw,
    skipHttpFloor: f.skipHttpFloor,
    skipOpenLoop: f.skipOpenLoop,
    rawBatches,
    pool: positive('--pool', f.pool),
    openRate: f.openRate === undefined ? undefined : positive('--open-rate', f.openRate, false),
    profile: f.profile,
    keep: f.keep,
    jsonOut: f.jsonOut,
    quietPercent: positive('--quiet', f.quiet, false),
    maxNoise: positive('--max-noise', f.maxNoise, false),
    tries: positive('--tries', f.tries),
    quietWaitMs: f.quietWait.trim() === '0' ? 0 : positive('--quiet-wait', f.quietWait, false) * 1000,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

const progress = (() => {
  const began = Date.now();
  return (line: string) => process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
})();

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sortedCopy(values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort());
}

interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

function summarize(latencies: readonly number[]): LatencySummary {
  const sorted = sortedCopy(latencies);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CPU accounting: /proc/<pid>/stat of every process on the machine that matters, per phase

interface CpuSnapshot {
  at: number;
  perProcess: Map<string, number>;
  machine: { busy: number; total: number };
}

class CpuMeter {
  constructor(private readonly processes: () => { name: string; pid: number }[]) {}

  snapshot(): CpuSnapshot {
    const perProcess = new Map<string, number>();
    const own = process.cpuUsage();
    perProcess.set('bench client', (own.user + own.system) / 1e6);
    for (const { name, pid } of this.processes()) {
      const s = statCpuSeconds(`/proc/${pid}/stat`);
      if (s !== undefined) perProcess.set(name, (perProcess.get(name) ?? 0) + s);
    }
    return { at: performance.now(), perProcess, machine: machineSeconds() };
  }

  /** Per process: CPU used between the snapshots, as % of one core (200% = both cores of this machine). */
  static between(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
    const wall = (b.at - a.at) / 1000;
    const out: Record<string, number> = {};
    for (const [name, end] of b.perProcess)
      out[name] = round((100 * (end - (a.perProcess.get(name) ?? end))) / wall, 0);
    const machine = machinePercent(a.machine, b.machine);
    const ours = Object.values(out).reduce((x, y) => x + y, 0);
    // Anything else on the machine (other test runs, the kernel): a large figure here means a noisy measurement.
    out.others = round(Math.max(0, machine - ours), 0);
    out['machine (all)'] = round(machine, 0);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// guard processes

// ---------------------------------------------------------------------------------------------------------------
// guard metrics (Prometheus text), summed over the guards

interface GuardCounters {
  groupSum: number;
  groupCount: number;
  commitSum: number;
  commitCount: number;
  appendSum: number;
  appendCount: number;
  requeued: number;
}

function parseMetrics(text: string): GuardCounters {
  const value = (name: string): number => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) {
        total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
      }
    }
    return total;
  };
  return {
    groupSum: value('kes_guard_group_commit_appends_sum'),
    groupCount: value('kes_guard_group_commit_appends_count'),
    commitSum: value('kes_guard_commit_seconds_sum'),
    commitCount: value('kes_guard_commit_seconds_count'),
    appendSum: value('kes_guard_append_seconds_sum'),
    appendCount: value('kes_guard_append_seconds_count'),
    requeued: value('kes_guard_requeued_total'),
  };
}

async function scrape(clients: readonly HttpLoadClient[]): Promise<GuardCounters> {
  const all = await Promise.all(
    clients.map(async (c) => {
      const answer = await c.get('/metrics');
      if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
      return parseMetrics(answer.body);
    }),
  );
  const sum: GuardCounters = {
    groupSum: 0,
    groupCount: 0,
    commitSum: 0,
    commitCount: 0,
    appendSum: 0,
    appendCount: 0,
    requeued: 0,
  };
  for (const m of all) for (const k of Object.keys(sum) as (keyof GuardCounters)[]) sum[k] += m[k];
  return sum;
}

interface GuardSideFigures {
  meanGroupCommit: number;
  meanCommitMs: number;
  commits: number;
  /** Mean time inside the guard from receiving an append to answering it. */
  meanServerAppendMs: number;
  requeued: number;
}

function guardSide(a: GuardCounters, b: GuardCounters): GuardSideFigures {
  const groups = b.groupCount - a.groupCount;
  const commits = b.commitCount - a.commitCount;
  const appends = b.appendCount - a.appendCount;
  return {
    meanGroupCommit: groups > 0 ? (b.groupSum - a.groupSum) / groups : Number.NaN,
    meanCommitMs: commits > 0 ? (1000 * (b.commitSum - a.commitSum)) / commits : Number.NaN,
    commits,
    meanServerAppendMs: appends > 0 ? (1000 * (b.appendSum - a.appendSum)) / appends : Number.NaN,
    requeued: b.requeued - a.requeued,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Redis INFO commandstats (server-wide: other users of the stack show up too)

interface RedisCommandStats {
  calls: number;
  usec: number;
}

async function redisScriptStats(redis: Redis): Promise<RedisCommandStats> {
  const info = await redis.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_(evalsha|eval):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) {
      calls += Number(m[2]);
      usec += Number(m[3]);
    }
  }
  return { calls, usec };
}

// ---------------------------------------------------------------------------------------------------------------
// the load

interface Tally {
  ok: number;
  events: number;
  conflicts: number;
  rejected: number;
  indeterminate: number;
  latencies: number[];
}

const newTally = (): Tally => ({ ok: 0, events: 0, conflicts: 0, rejected: 0, indeterminate: 0, latencies: [] });

/** What the clients know of the streams: the version each last saw (shared by every client, as the issue asks). */
class Streams {
  private readonly known = new Map<string, number>();
  private n = 0;

  constructor(private readonly count: number) {}

  pick(): { stream: string; expected: Expected } {
    const stream = `${CATEGORY}-${Math.floor(Math.random() * this.count)}`;
    const v = this.known.get(stream);
    return { stream, expected: v === undefined || v < 0 ? 'no_stream' : v };
  }

  event(): LoadEvent {
    this.n += 1;
    return { id: randomUUID(), type: EVENT_TYPE, data: eventData(this.n) };
  }

  observe(a: LoadAttempt): void {
    const o = a.outcome;
    if (o.status === 'ok') {
      if ((this.known.get(a.stream) ?? -1) < o.result.lastVersion) this.known.set(a.stream, o.result.lastVersion);
    } else if (o.status === 'conflict' && Number.isFinite(o.actual)) {
      this.known.set(a.stream, o.actual);
    }
  }
}

function eventData(n: number): { amount: number; currency: string; transferId: null } {
  return { amount: 100 + (n % 900), currency: 'EUR', transferId: null };
}

function tally(t: Tally, a: LoadAttempt, latencyMs: number): void {
  switch (a.outcome.status) {
    case 'ok':
      t.ok += 1;
      t.events += a.eventIds.length;
      t.latencies.push(latencyMs);
      return;
    case 'conflict':
      t.conflicts += 1;
      return;
    case 'rejected':
      t.rejected += 1;
      return;
    case 'indeterminate':
      t.indeterminate += 1;
      return;
  }
}

interface LoadContext {
  clients: HttpLoadClient[];
  streams: Streams;
  history: HistoryWriter | undefined;
  cpu: CpuMeter;
  redis: Redis;
}

interface Window {
  elapsedMs: number;
  guard: GuardSideFigures;
  cpu: Record<string, number>;
  redisScripts: { callsPerSecond: number; usecPerCall: number };
}

/** Takes the snapshots at the start of a measured window and turns them into figures at its end. */
async function openWindow(ctx: LoadContext): Promise<() => Promise<Window>> {
  const cpu0 = ctx.cpu.snapshot();
  const [metrics0, redis0] = await Promise.all([scrape(ctx.clients), redisScriptStats(ctx.redis)]);
  return async () => {
    const cpu1 = ctx.cpu.snapshot();
    const [metrics1, redis1] = await Promise.all([scrape(ctx.clients), redisScriptStats(ctx.redis)]);
    const elapsedMs = cpu1.at - cpu0.at;
    const calls = redis1.calls - redis0.calls;
    return {
      elapsedMs,
      guard: guardSide(metrics0, metrics1),
      cpu: CpuMeter.between(cpu0, cpu1),
      redisScripts: {
        callsPerSecond: round((calls * 1000) / elapsedMs, 0),
        usecPerCall: round(calls > 0 ? (redis1.usec - redis0.usec) / calls : Number.NaN, 1),
      },
    };
  };
}

function attemptDone(ctx: LoadContext, client: string, a: LoadAttempt): void {
  ctx.streams.observe(a);
  ctx.history?.record(toHistory(client, { ...a, attempt: 1 }));
}

/** Set by the phase runner: how quiet the machine was before the phase, and which attempt was kept. */
interface Noted {
  /** CPU of the idle machine (% of one core) in the second before the phase began. */
  idleBefore?: number | undefined;
  attempts?: number;
}

interface GuardedResult extends Noted {
  clients: number;
  appendsPerSecond: number;
  eventsPerSecond: number;
  latency: LatencySummary;
  ok: number;
  conflicts: number;
  rejected: number;
  indeterminate: number;
  window: Window;
}

/** C closed-loop clients: each sends its next append as soon as the previous one is answered. */
async function closedLoop(ctx: LoadContext, c: number, warmupMs: number, durationMs: number): Promise<GuardedResult> {
  let measuring = false;
  let stop = false;
  const t = newTally();
  const worker = async (w: number) => {
    const client = ctx.clients[w % ctx.clients.length] as HttpLoadClient;
    const name = `c${c}.w${w}`;
    while (!stop) {
      const { stream, expected } = ctx.streams.pick();
      const started = performance.now();
      const a = await client.append(stream, expected, [ctx.streams.event()]);
      const latency = performance.now() - started;
      attemptDone(ctx, name, a);
      if (measuring) tally(t, a, latency);
    }
  };
  const workers = Array.from({ length: c }, (_, w) => worker(w));
  await sleep(warmupMs);
  const close = await openWindow(ctx);
  measuring = true;
  await sleep(durationMs);
  measuring = false;
  const window = await close();
  stop = true;
  await Promise.all(workers);
  const seconds = window.elapsedMs / 1000;
  return {
    clients: c,
    appendsPerSecond: t.ok / seconds,
    eventsPerSecond: t.events / seconds,
    latency: summarize(t.latencies),
    ok: t.ok,
    conflicts: t.conflicts,
    rejected: t.rejected,
    indeterminate: t.indeterminate,
    window,
  };
}

interface FloorPhase extends Noted {
  clients: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  clientUsPerRequest: number;
  serverUsPerRequest: number;
  cpu: Record<string, number>;
}

interface OpenLoopResult extends Noted {
  targetRate: number;
  appendsPerSecond: number;
  eventsPerSecond: number;
  /** From the scheduled start of each append to its answer (includes any wait for a free slot of the pool). */
  latency: LatencySummary;
  pool: number;
  scheduled: number;
  ok: number;
  conflicts: number;
  rejected: number;
  indeterminate: number;
  /** Measured appends that found every slot of the pool busy at their scheduled time. */
  poolWaits: number;
  /** Measured appends issued 5 ms or more after their scheduled time (timer slack or pool). */
  late: number;
  maxIssueLagMs: number;
  window: Window;
}

/**
 * An open-loop load: append k is due at start + k / rate whatever happened to earlier ones, so a slow answer cannot
 * hold back the appends behind it (coordinated omission). Latency counts from the due time.
 */
async function openLoop(
  ctx: LoadContext,
  rate: number,
  pool: number,
  warmupMs: number,
  durationMs: number,
): Promise<OpenLoopResult> {
  const interval = 1000 / rate;
  const start = performance.now() + 10;
  const from = start + warmupMs;
  const to = from + durationMs;
  const t = newTally();
  let k = 0;
  let inflight = 0;
  let blockedUpTo = -1;
  let poolWaits = 0;
  let late = 0;
  let maxIssueLag = 0;
  let scheduled = 0;
  let allIssued = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => {
    finish = r;
  });

  const issue = (index: number, due: number, now: number) => {
    const measured = due >= from && due < to;
    if (measured) {
      scheduled += 1;
      const lag = now - due;
      if (index <= blockedUpTo) poolWaits += 1;
      if (lag >= 5) late += 1;
      if (lag > maxIssueLag) maxIssueLag = lag;
    }
    inflight += 1;
    const client = ctx.clients[index % ctx.clients.length] as HttpLoadClient;
    const { stream, expected } = ctx.streams.pick();
    void client.append(stream, expected, [ctx.streams.event()]).then((a) => {
      const latency = performance.now() - due;
      inflight -= 1;
      attemptDone(ctx, `open.${index % pool}`, a);
      if (measured) tally(t, a, latency);
      pump();
      if (allIssued && inflight === 0) finish();
    });
  };

  const pump = () => {
    const now = performance.now();
    for (;;) {
      const due = start + k * interval;
      if (due >= to) {
        allIssued = true;
        break;
      }
      if (due > now) break;
      if (inflight >= pool) {
        blockedUpTo = Math.max(blockedUpTo, Math.floor((now - start) / interval));
        break;
      }
      issue(k, due, now);
      k += 1;
    }
  };

  const timer = setInterval(pump, 1);
  await sleep(Math.max(0, from - performance.now()));
  const close = await openWindow(ctx);
  await sleep(Math.max(0, to - performance.now()));
  const window = await close();
  while (!allIssued) await sleep(5);
  clearInterval(timer);
  if (inflight > 0) await finished;
  const seconds = durationMs / 1000;
  return {
    targetRate: rate,
    appendsPerSecond: t.ok / seconds,
    eventsPerSecond: t.events / seconds,
    latency: summarize(t.latencies),
    pool,
    scheduled,
    ok: t.ok,
    conflicts: t.conflicts,
    rejected: t.rejected,
    indeterminate: t.indeterminate,
    poolWaits,
    late,
    maxIssueLagMs: maxIssueLag,
    window,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the raw ceiling: kafkajs alone, records as the guard writes them

interface RawResult extends Noted {
  batch: number;
  batchSource: string;
  producers: number;
  eventsPerSecond: number;
  transactions: number;
  /** Begin → sendBatch → commit, per transaction. */
  latency: LatencySummary;
  /** Mean time to build one transaction's records (Avro, hash, headers): CPU the guard spends too. */
  meanBuildMs: number;
  cpu: Record<string, number>;
}

async function ensureTopic(kafka: Kafka, topic: string, partitions: number, replication: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions, replicationFactor: replication }],
      })
      .catch((error: unknown) => {
        if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
      });
  } finally {
    await admin.disconnect();
  }
}

async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

async function rawPhase(args: {
  kafka: Kafka;
  catalog: EventCatalog;
  topic: string;
  partitions: number;
  streams: number;
  producers: number;
  batch: number;
  batchSource: string;
  transactionalPrefix: string;
  warmupMs: number;
  durationMs: number;
  cpu: CpuMeter;
}): Promise<RawResult> {
  const { kafka, catalog, topic, partitions, batch } = args;
  const producers: Producer[] = await Promise.all(
    Array.from({ length: args.producers }, (_, i) =>
      initTransactional(kafka, `${args.transactionalPrefix}.${batch}.${i}`, 60_000),
    ),
  );
  const versions = new Map<string, number>();
  let n = 0;
  const build = () => {
    const timeMs = Date.now();
    const messages = new Array<{
      key: string;
      value: Buffer;
      partition: number;
      headers: Record<string, string>;
      timestamp: string;
    }>(batch);
    for (let i = 0; i < batch; i++) {
      n += 1;
      const stream = `${CATEGORY}-${Math.floor(Math.random() * args.streams)}`;
      const version = (versions.get(stream) ?? -1) + 1;
      versions.set(stream, version);
      const data = eventData(n);
      messages[i] = {
        key: stream,
        value: catalog.encode(EVENT_TYPE, data),
        partition: partitionOf(stream, partitions),
        timestamp: String(timeMs),
        headers: encodeHeaders({
          stream,
          version,
          eventId: randomUUID(),
          type: EVENT_TYPE,
          timeMs,
          contentHash: contentHash(EVENT_TYPE, data, undefined),
        }),
      };
    }
    return messages;
  };

  let measuring = false;
  let stop = false;
  let events = 0;
  let buildMs = 0;
  let builds = 0;
  const latencies: number[] = [];
  const loop = async (producer: Producer) => {
    while (!stop) {
      const b0 = performance.now();
      const messages = build();
      const t0 = performance.now();
      const tx = await producer.transaction();
      try {
        await tx.sendBatch({ acks: -1, timeout: 10_000, topicMessages: [{ topic, messages }] });
        await tx.commit();
      } catch (error) {
        await tx.abort().catch(() => {});
        throw error;
      }
      const t1 = performance.now();
      if (measuring) {
        events += messages.length;
        latencies.push(t1 - t0);
        buildMs += t0 - b0;
        builds += 1;
      }
    }
  };
  try {
    const loops = producers.map((p) => loop(p));
    await sleep(args.warmupMs);
    const cpu0 = args.cpu.snapshot();
    measuring = true;
    await sleep(args.durationMs);
    measuring = false;
    const cpu1 = args.cpu.snapshot();
    stop = true;
    await Promise.all(loops);
    const seconds = (cpu1.at - cpu0.at) / 1000;
    return {
      batch,
      batchSource: args.batchSource,
      producers: producers.length,
      eventsPerSecond: events / seconds,
      transactions: latencies.length,
      latency: summarize(latencies),
      meanBuildMs: builds > 0 ? buildMs / builds : Number.NaN,
      cpu: CpuMeter.between(cpu0, cpu1),
    };
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// output

interface Row {
  phase: string;
  clients: string;
  appendsPerSecond?: number;
  eventsPerSecond?: number;
  p50?: number;
  p99?: number;
  max?: number;
  conflicts?: number;
  errors?: number;
  groupCommit?: number;
  commitMs?: number;
}

const columns: Column<Row>[] = [
  { header: 'phase', value: (r) => r.phase },
  { header: 'clients', value: (r) => r.clients },
  { header: 'appends/s', value: (r) => fmt(r.appendsPerSecond, 0) },
  { header: 'events/s', value: (r) => fmt(r.eventsPerSecond, 0) },
  { header: 'p50 ms', value: (r) => fmt(r.p50) },
  { header: 'p99 ms', value: (r) => fmt(r.p99) },
  { header: 'max ms', value: (r) => fmt(r.max) },
  { header: 'conflicts', value: (r) => (r.conflicts === undefined ? '—' : r.conflicts) },
  { header: 'errors', value: (r) => (r.errors === undefined ? '—' : r.errors) },
  { header: 'mean group commit', value: (r) => fmt(r.groupCommit, Number.isInteger(r.groupCommit) ? 0 : 1) },
  { header: 'mean commit ms', value: (r) => fmt(r.commitMs) },
];

function guardSettingsOf(config: KesConfig, guards: number): Record<string, string | number> {
  return {
    guards,
    KES_GUARD_PIPELINE: config.KES_GUARD_PIPELINE,
    KES_GUARD_LINGER_MS: config.KES_GUARD_LINGER_MS,
    KES_GUARD_MAX_BATCH_EVENTS: config.KES_GUARD_MAX_BATCH_EVENTS,
    KES_GUARD_SLOTS: config.KES_GUARD_SLOTS,
    KES_GUARD_RESERVATION_MS: config.KES_GUARD_RESERVATION_MS,
    KES_IDEMPOTENCY_WINDOW_S: config.KES_IDEMPOTENCY_WINDOW_S,
    KES_TOPIC_PARTITIONS: config.KES_TOPIC_PARTITIONS,
    KES_TOPIC_REPLICATION: config.KES_TOPIC_REPLICATION,
    KES_REDIS_PREFIX: config.KES_REDIS_PREFIX,
    KES_TOPIC_PREFIX: config.KES_TOPIC_PREFIX,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// main

async function main(): Promise<number> {
  const options = parseFlags(process.argv);
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const namespace = `bench_${id}`;
  const redisPrefix = `${namespace}:`;
  const topicPrefix = `${namespace}.`;
  const config = loadConfig({
    overrides: { KES_REDIS_PREFIX: redisPrefix, KES_TOPIC_PREFIX: topicPrefix },
  });
  const runDir = join(config.KES_HOME, 'bench', `guard-${id}`);
  mkdirSync(runDir, { recursive: true });
  const settings = guardSettingsOf(config, options.guards);
  const slotsNeeded = options.guards * config.KES_GUARD_PIPELINE;
  if (slotsNeeded > config.KES_GUARD_SLOTS) {
    throw new Error(
      `${options.guards} guard(s) × KES_GUARD_PIPELINE ${config.KES_GUARD_PIPELINE} writers need ${slotsNeeded} slots; KES_GUARD_SLOTS is ${config.KES_GUARD_SLOTS}`,
    );
  }
  progress(`run ${id}: logs, history and profiles in ${runDir}`);
  progress(
    `settings: ${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );

  const kafka = createKafka(config, `kes-bench-${id}`, { logLevel: logLevel.NOTHING });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // a failing command says what went wrong
  const stack = stackPids(ROOT);
  const guards: GuardProcess[] = [];
  const clients: HttpLoadClient[] = [];
  const maxClients = Math.max(...options.clients, options.pool);
  const history = options.check ? new HistoryWriter(join(runDir, 'history.jsonl')) : undefined;
  const extraProcesses: { name: string; pid: number }[] = [];
  const cpu = new CpuMeter(() => [
    ...guards.flatMap((g) => (g.child.pid === undefined ? [] : [{ name: 'guard', pid: g.child.pid }])),
    ...extraProcesses,
    ...stack.filter((s) => ['kafka', 'redis', 'registry', 'clickhouse'].includes(s.name)),
  ]);
  const guardTopic = `${topicPrefix}${CATEGORY}`;
  const rawTopic = `${topicPrefix}${RAW_CATEGORY}`;
  let exitCode = 0;

  try {
    // 1. guards
    const guardEnv: NodeJS.ProcessEnv = {
      ...process.env,
      KES_REDIS_PREFIX: redisPrefix,
      KES_TOPIC_PREFIX: topicPrefix,
      KES_LOG_LEVEL: process.env.KES_LOG_LEVEL ?? 'warn',
    };
    for (let i = 0; i < options.guards; i++) {
      guards.push(
        await startGuardProcess({
          name: `guard ${i}`,
          root: ROOT,
          env: guardEnv,
          logPath: join(runDir, `guard-${i}.log`),
          profileDir: options.profile ? join(runDir, 'profiles') : undefined,
        }),
      );
    }
    for (const g of guards) {
      clients.push(new HttpLoadClient({ url: g.url, apiKey: LOCAL_DEV_KEY, maxSockets: maxClients + 8 }));
    }
    await Promise.all(guards.map((g, i) => waitReady(g, clients[i] as HttpLoadClient, 120_000)));
    progress(`${guards.length} guard(s) ready: ${guards.map((g) => `${g.url} (pid ${g.child.pid})`).join(', ')}`);

    // 2. the category topic, created by a first append
    const streams = new Streams(options.streams);
    const ctx: LoadContext = { clients, streams, history, cpu, redis };
    const first = await (clients[0] as HttpLoadClient).append(`${CATEGORY}-bench_init`, 'no_stream', [streams.event()]);
    attemptDone(ctx, 'init', first);
    if (first.outcome.status !== 'ok') throw new Error(`first append failed: ${JSON.stringify(first.outcome)}`);
    const partitions = await partitionCount(kafka, guardTopic);
    progress(`topic ${guardTopic}: ${partitions} partitions`);

    const quiet = async (): Promise<number | undefined> =>
      options.quietWaitMs > 0
        ? (await waitQuiet(options.quietPercent, options.quietWaitMs, progress)).idleCpu
        : undefined;
    /**
     * Runs a phase after waiting for a quiet machine; when other processes still took more than --max-noise of a
     * core during it, runs it again (up to --tries) and keeps the least disturbed attempt.
     */
    const phase = async <T extends Noted>(
      run: () => Promise<T>,
      cpuOf: (r: T) => Record<string, number>,
    ): Promise<T> => {
      let kept: T | undefined;
      for (let attempt = 1; attempt <= options.tries; attempt++) {
        const idle = await quiet();
        const r = await run();
        r.idleBefore = idle;
        r.attempts = attempt;
        const noise = cpuOf(r).others ?? 0;
        if (kept === undefined || noise < (cpuOf(kept).others ?? 0)) kept = r;
        if (noise <= options.maxNoise) break;
        if (attempt < options.tries) {
          progress(
            `  other processes took ${noise}% of a core during the phase (--max-noise ${options.maxNoise}); measuring it again`,
          );
        }
      }
      return kept as T;
    };

    // 3. guarded phases, closed loop
    const guarded: GuardedResult[] = [];
    for (const c of options.clients) {
      progress(
        `guarded, ${c} closed-loop client(s): ${options.warmupMs / 1000} s warm-up, ${options.durationMs / 1000} s measured`,
      );
      const r = await phase(
        () => closedLoop(ctx, c, options.warmupMs, options.durationMs),
        (x) => x.window.cpu,
      );
      guarded.push(r);
      progress(
        `  ${fmt(r.appendsPerSecond, 0)} appends/s, p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms, ` +
          `group commit ${fmt(r.window.guard.meanGroupCommit)}, cpu ${JSON.stringify(r.window.cpu)}`,
      );
    }
    const best = guarded.reduce<GuardedResult | undefined>(
      (b, r) => (b === undefined || r.appendsPerSecond > b.appendsPerSecond ? r : b),
      undefined,
    );
    const most = guarded.reduce<GuardedResult | undefined>(
      (b, r) => (b === undefined || r.clients > b.clients ? r : b),
      undefined,
    );

    // 3b. the HTTP floor: the same client against a server that does nothing, at the most clients
    let floor: FloorPhase | undefined;
    if (!options.skipHttpFloor && most) {
      progress(`HTTP floor: ${most.clients} closed-loop client(s) against a do-nothing fastify server`);
      const server = await startHttpFloor();
      extraProcesses.push({ name: 'http floor server', pid: server.pid });
      try {
        floor = await phase(
          async (): Promise<FloorPhase> => {
            let cpu0: CpuSnapshot | undefined;
            let cpu1: CpuSnapshot | undefined;
            const r = await measureFloor(server.url, server.pid, most.clients, options.warmupMs, options.durationMs, {
              onStart: () => {
                cpu0 = cpu.snapshot();
              },
              onEnd: () => {
                cpu1 = cpu.snapshot();
              },
            });
            return {
              clients: r.clients,
              requestsPerSecond: r.requestsPerSecond,
              latency: summarize(r.latencyMs),
              clientUsPerRequest: r.clientUsPerRequest,
              serverUsPerRequest: r.serverUsPerRequest,
              cpu: cpu0 && cpu1 ? CpuMeter.between(cpu0, cpu1) : {},
            };
          },
          (x: FloorPhase) => x.cpu,
        );
      } finally {
        server.stop();
        extraProcesses.length = 0;
      }
      progress(
        `  ${fmt(floor.requestsPerSecond, 0)} requests/s, client ${fmt(floor.clientUsPerRequest, 0)} µs/request, server ${fmt(floor.serverUsPerRequest, 0)} µs/request`,
      );
    }

    // 4. raw ceiling
    const raw: RawResult[] = [];
    if (!options.skipRaw) {
      const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
      await ensureTopic(kafka, rawTopic, partitions, config.KES_TOPIC_REPLICATION);
      try {
        for (const spec of options.rawBatches) {
          let batch: number;
          let source: string;
          if (spec === 'max') {
            batch = config.KES_GUARD_MAX_BATCH_EVENTS;
            source = 'KES_GUARD_MAX_BATCH_EVENTS';
          } else if (spec === 'guard') {
            const mean = most?.window.guard.meanGroupCommit ?? Number.NaN;
            if (!Number.isFinite(mean)) continue;
            batch = Math.max(1, Math.round(mean));
            source = `guard's mean group commit at ${most?.clients} clients`;
          } else {
            batch = spec;
            source = '--raw-batch';
          }
          const producers = options.guards * config.KES_GUARD_PIPELINE;
          progress(`raw kafkajs, ${producers} transactional producer(s), ${batch} events per transaction (${source})`);
          const r = await phase(
            () =>
              rawPhase({
                kafka,
                catalog,
                topic: rawTopic,
                partitions,
                streams: options.streams,
                producers,
                batch,
                batchSource: source,
                transactionalPrefix: `kes-bench-raw.${id}`,
                warmupMs: options.warmupMs,
                durationMs: options.durationMs,
                cpu,
              }),
            (x) => x.cpu,
          );
          raw.push(r);
          progress(
            `  ${fmt(r.eventsPerSecond, 0)} events/s, ${r.transactions} transactions, p50 ${fmt(r.latency.p50)} ms per transaction, cpu ${JSON.stringify(r.cpu)}`,
          );
        }
      } finally {
        // The raw records are not the guard's: out of the way of the checker (and of the disk).
        await deleteTopics(kafka, [rawTopic]).catch((error: unknown) =>
          progress(`could not delete ${rawTopic}: ${error instanceof Error ? error.message : String(error)}`),
        );
      }
    }

    // 5. half-peak latency, open loop
    let half: OpenLoopResult | undefined;
    const rate = options.openRate ?? (best ? best.appendsPerSecond / 2 : 0);
    if (rate > 0 && !options.skipOpenLoop) {
      progress(
        `open loop at ${fmt(rate, 0)} appends/s (${options.openRate === undefined ? `half of the best ${fmt(best?.appendsPerSecond, 0)}` : '--open-rate'}), pool ${options.pool}`,
      );
      half = await phase(
        () => openLoop(ctx, rate, options.pool, options.warmupMs, options.durationMs),
        (x) => x.window.cpu,
      );
      progress(
        `  ${fmt(half.appendsPerSecond, 0)} appends/s, p50 ${fmt(half.latency.p50)} ms, p99 ${fmt(half.latency.p99)} ms, max ${fmt(half.latency.max)} ms, cpu ${JSON.stringify(half.window.cpu)}`,
      );
    }

    // 6. stop the guards, then check
    for (const c of clients) c.close();
    progress('stopping the guard(s) (SIGTERM)');
    await Promise.all(guards.map((g) => stopGuard(g, progress)));
    let check: CheckReport | undefined;
    if (history) {
      await history.close();
      progress(`checking ${history.path} against ${guardTopic}`);
      check = await runCheck({
        kafka,
        historyPath: history.path,
        topicPrefix,
        idempotencyWindowMs: config.KES_IDEMPOTENCY_WINDOW_S * 1000,
        onProgress: progress,
        kafkaAddress: config.KAFKA_BROKERS.join(','),
      });
      if (check.violations.length > 0) exitCode = 13;
    }

    // 7. figures
    const ceiling = raw[0];
    const ratio = most && ceiling ? most.eventsPerSecond / ceiling.eventsPerSecond : undefined;
    const verdicts: Verdict[] = [
      {
        target: `guarded at ${most?.clients ?? '?'} clients ≥ ${RATIO_TARGET} × raw ceiling`,
        measured:
          ratio === undefined
            ? 'raw ceiling skipped'
            : `${fmt(most?.eventsPerSecond, 0)} / ${fmt(ceiling?.eventsPerSecond, 0)} events/s = ${ratio.toFixed(2)}`,
        result: ratio === undefined ? 'n/a' : ratio >= RATIO_TARGET ? 'PASS' : 'FAIL',
      },
      {
        target: `p99 < ${P99_TARGET_MS} ms at ${options.openRate === undefined ? 'half of the peak rate' : 'the --open-rate'}`,
        measured: half ? `p99 ${fmt(half.latency.p99)} ms at ${fmt(half.targetRate, 0)} appends/s` : 'not run',
        result: half === undefined ? 'n/a' : half.latency.p99 < P99_TARGET_MS ? 'PASS' : 'FAIL',
      },
    ];
    if (floor && ceiling) {
      verdicts.push({
        target: `(info) HTTP floor at ${floor.clients} clients / raw ceiling: what a guard that did nothing would reach`,
        measured: `${fmt(floor.requestsPerSecond, 0)} / ${fmt(ceiling.eventsPerSecond, 0)} = ${(floor.requestsPerSecond / ceiling.eventsPerSecond).toFixed(2)}`,
        result: 'n/a',
      });
    }
    if (floor && most) {
      verdicts.push({
        target: `(info) guarded / HTTP floor at ${most.clients} clients`,
        measured: (most.appendsPerSecond / floor.requestsPerSecond).toFixed(2),
        result: 'n/a',
      });
    }
    for (const r of raw.slice(1)) {
      verdicts.push({
        target: `(info) guarded at ${most?.clients} clients / raw at ${r.batch} events per transaction`,
        measured: most ? (most.eventsPerSecond / r.eventsPerSecond).toFixed(2) : '—',
        result: 'n/a',
      });
    }

    const rows: Row[] = guarded.map((r) => ({
      phase: 'guarded, closed loop',
      clients: String(r.clients),
      appendsPerSecond: r.appendsPerSecond,
      eventsPerSecond: r.eventsPerSecond,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      conflicts: r.conflicts,
      errors: r.rejected + r.indeterminate,
      groupCommit: r.window.guard.meanGroupCommit,
      commitMs: r.window.guard.meanCommitMs,
    }));
    if (floor) {
      rows.push({
        phase: 'HTTP floor (no-op server)',
        clients: String(floor.clients),
        appendsPerSecond: floor.requestsPerSecond,
        p50: floor.latency.p50,
        p99: floor.latency.p99,
        max: floor.latency.max,
      });
    }
    for (const r of raw) {
      rows.push({
        phase: `raw kafkajs ${r === ceiling ? 'ceiling' : ''} (${r.batch}/tx)`.replace('  ', ' '),
        clients: `${r.producers} producers`,
        eventsPerSecond: r.eventsPerSecond,
        p50: r.latency.p50,
        p99: r.latency.p99,
        max: r.latency.max,
        groupCommit: r.batch,
        commitMs: r.latency.mean,
      });
    }
    if (half) {
      rows.push({
        phase: `half peak, open loop @ ${fmt(half.targetRate, 0)}/s`,
        clients: `≤ ${half.pool} in flight`,
        appendsPerSecond: half.appendsPerSecond,
        eventsPerSecond: half.eventsPerSecond,
        p50: half.latency.p50,
        p99: half.latency.p99,
        max: half.latency.max,
        conflicts: half.conflicts,
        errors: half.rejected + half.indeterminate,
        groupCommit: half.window.guard.meanGroupCommit,
        commitMs: half.window.guard.meanCommitMs,
      });
    }

    const withIdle = (cpu: Record<string, number>, r: Noted) => ({
      ...cpu,
      ...(r.idleBefore === undefined ? {} : { 'idle machine before': r.idleBefore }),
      ...(r.attempts === undefined ? {} : { attempt: r.attempts }),
    });
    const cpuPhases: { phase: string; cpu: Record<string, number> }[] = [
      ...guarded.map((r) => ({ phase: `guarded ${r.clients}`, cpu: withIdle(r.window.cpu, r) })),
      ...(floor ? [{ phase: 'HTTP floor', cpu: withIdle(floor.cpu, floor) }] : []),
      ...raw.map((r) => ({ phase: `raw ${r.batch}/tx`, cpu: withIdle(r.cpu, r) })),
      ...(half ? [{ phase: 'half peak', cpu: withIdle(half.window.cpu, half) }] : []),
    ];
    const processNames = [...new Set(cpuPhases.flatMap((p) => Object.keys(p.cpu)))];
    const cpuColumns: Column<{ phase: string; cpu: Record<string, number> }>[] = [
      { header: 'CPU % of one core', value: (p) => p.phase },
      ...processNames.map((name) => ({ header: name, value: (p: { cpu: Record<string, number> }) => p.cpu[name] })),
    ];
    const diagnostics = [
      ...guarded.map((r) => ({
        phase: `guarded ${r.clients}`,
        commits: r.window.guard.commits,
        serverAppendMs: r.window.guard.meanServerAppendMs,
        requeued: r.window.guard.requeued,
        redis: r.window.redisScripts,
      })),
      ...(half
        ? [
            {
              phase: 'half peak',
              commits: half.window.guard.commits,
              serverAppendMs: half.window.guard.meanServerAppendMs,
              requeued: half.window.guard.requeued,
              redis: half.window.redisScripts,
            },
          ]
        : []),
    ];
    type Diag = (typeof diagnostics)[number];
    const diagColumns: Column<Diag>[] = [
      { header: 'phase', value: (d) => d.phase },
      { header: 'group commits', value: (d) => d.commits },
      { header: 'mean in-guard append ms', value: (d) => fmt(d.serverAppendMs) },
      { header: 'requeued', value: (d) => d.requeued },
      { header: 'Redis scripts/s', value: (d) => d.redis.callsPerSecond },
      { header: 'Redis µs/script', value: (d) => fmt(d.redis.usecPerCall) },
    ];

    const out = {
      run: {
        id,
        runDir,
        machine: machine(ROOT, CODE_DIRS),
        settings,
        durationS: options.durationMs / 1000,
        warmupS: options.warmupMs / 1000,
        streams: options.streams,
        partitions,
      },
      guarded: guarded.map((r) => ({
        clients: r.clients,
        appendsPerSecond: round(r.appendsPerSecond, 0),
        eventsPerSecond: round(r.eventsPerSecond, 0),
        latencyMs: roundAll(r.latency),
        ok: r.ok,
        conflicts: r.conflicts,
        rejected: r.rejected,
        indeterminate: r.indeterminate,
        guard: roundAll(r.window.guard),
        cpuPercent: r.window.cpu,
        redisScripts: r.window.redisScripts,
        idleMachineBefore: r.idleBefore ?? null,
        attempt: r.attempts ?? 1,
      })),
      raw: raw.map((r) => ({
        batch: r.batch,
        batchSource: r.batchSource,
        producers: r.producers,
        eventsPerSecond: round(r.eventsPerSecond, 0),
        transactions: r.transactions,
        transactionLatencyMs: roundAll(r.latency),
        meanBuildMs: round(r.meanBuildMs, 2),
        cpuPercent: r.cpu,
        idleMachineBefore: r.idleBefore ?? null,
        attempt: r.attempts ?? 1,
      })),
      httpFloor: floor
        ? {
            clients: floor.clients,
            requestsPerSecond: round(floor.requestsPerSecond, 0),
            latencyMs: roundAll(floor.latency),
            clientUsPerRequest: round(floor.clientUsPerRequest, 0),
            serverUsPerRequest: round(floor.serverUsPerRequest, 0),
            cpuPercent: floor.cpu,
            idleMachineBefore: floor.idleBefore ?? null,
            attempt: floor.attempts ?? 1,
          }
        : null,
      ratio: ratio === undefined ? null : round(ratio, 3),
      halfPeak: half
        ? {
            targetRate: round(half.targetRate, 0),
            appendsPerSecond: round(half.appendsPerSecond, 0),
            latencyMs: roundAll(half.latency),
            pool: half.pool,
            scheduled: half.scheduled,
            ok: half.ok,
            conflicts: half.conflicts,
            rejected: half.rejected,
            indeterminate: half.indeterminate,
            poolWaits: half.poolWaits,
            late: half.late,
            maxIssueLagMs: round(half.maxIssueLagMs, 1),
            guard: roundAll(half.window.guard),
            cpuPercent: half.window.cpu,
            redisScripts: half.window.redisScripts,
            idleMachineBefore: half.idleBefore ?? null,
            attempt: half.attempts ?? 1,
          }
        : null,
      targets: verdicts,
      check: check
        ? { violations: check.violations.length, summary: check.summary, notChecked: check.notChecked }
        : null,
    };
    if (options.jsonOut) writeFileSync(options.jsonOut, `${JSON.stringify(out, null, 2)}\n`);
    if (options.format === 'json') {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      const lines: string[] = [];
      const m = machine(ROOT, CODE_DIRS);
      lines.push(
        `kes guard benchmark ${id} — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, ${m.date}, code ${m.code}`,
        `streams ${options.streams}, ${partitions} partitions, ${options.durationMs / 1000} s measured per phase after ${options.warmupMs / 1000} s warm-up; 1 MoneyDeposited event per append`,
        `settings: ${Object.entries(settings)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
        renderRows(rows, columns, 'table'),
        'raw rows: p50/p99/max and mean commit ms are per transaction (begin → sendBatch → commit); group commit = events per transaction',
        floor
          ? `HTTP floor row: the same client and clients against a fastify server that answers at once (client ${fmt(floor.clientUsPerRequest, 0)} µs + server ${fmt(floor.serverUsPerRequest, 0)} µs of CPU per request)`
          : '',
        renderRows(
          verdicts,
          [
            { header: 'target', value: (v: Verdict) => v.target },
            { header: 'measured', value: (v: Verdict) => v.measured },
            { header: 'result', value: (v: Verdict) => v.result },
          ],
          'table',
        ),
      );
      if (half) {
        lines.push(
          `half peak: ${half.scheduled} appends scheduled in the window, ${half.poolWaits} waited for a free slot of the pool, ` +
            `${half.late} issued ≥ 5 ms late (max ${fmt(half.maxIssueLagMs)} ms); latency counts from the scheduled time`,
        );
      }
      lines.push(renderRows(cpuPhases, cpuColumns, 'table'), renderRows(diagnostics, diagColumns, 'table'));
      if (check) lines.push(renderReport(check, 'table'));
      process.stdout.write(`${lines.filter((l) => l !== '').join('\n')}\n`);
    }
  } finally {
    for (const c of clients) c.close();
    await Promise.all(guards.map((g) => stopGuard(g, progress).catch(() => {})));
    await history?.close().catch(() => {});
    if (!options.keep) {
      await deleteTopics(kafka, [guardTopic, rawTopic]).catch(() => {});
      await deleteKeys(redis, redisPrefix).catch(() => {});
      progress(`deleted the run's topics and Redis keys (--keep keeps them); logs stay in ${runDir}`);
    }
    redis.disconnect();
  }
  return exitCode;
}

function roundAll<T extends object>(o: T): Record<keyof T, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(Number(v), 2)])) as Record<keyof T, number>;
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench:guard: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
