import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { type Kafka, logLevel, type Producer } from 'kafkajs';
import { initTransactional } from '../guard/protocol/fencing.js';
import { partitionOf } from '../guard/protocol/partitioner.js';
import type { Expected } from '../guard/protocol/redisState.js';
import type { ClickHouseEngine } from '../pipeline/clickhouse/engine.js';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import { type KesConfig, LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { contentHash } from '../pipeline/events/contentHash.js';
import { encodeHeaders } from '../pipeline/events/eventRecord.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { assertReadCommittedPatched } from '../pipeline/kafka/readCommittedPatch.js';
import { type Column, renderRows } from '../pipeline/output/textOutput.js';
import { openEventCatalog } from '../pipeline/schemas/eventCatalog.js';
import { ProjectionCatalog } from '../projectors/catalog/projectionCatalog.js';
import { ProjectorMetrics } from '../projectors/metrics.js';
import { eventsProjection } from '../projectors/readModels/eventsProjection.js';
import { qualified, quote, versioned } from '../projectors/readModels/projection.js';
import { DeadLetterSink } from '../projectors/run/deadLetterSink.js';
import { EventDecoder } from '../projectors/run/eventDecoder.js';
import { Projector } from '../projectors/run/projector.js';
import { ProjectorService } from '../projectors/run/projectorService.js';
import { HttpLoadClient, type LoadAttempt } from '../verify/load/httpLoad.js';

import { formatNumber, positive, round, type Verdict } from './support/figures.js';
import { type GuardProcess, startGuardProcess, stopGuard, waitReady } from './support/guardProcesses.js';
import { endOffsets, ensureTopic, withAdmin } from './support/kafkaAdmin.js';
import { percentile } from './support/latency.js';
import { machine, machinePercent, machineSeconds, stackPids, statCpuSeconds } from './support/machine.js';
import { quietBefore } from './support/quiet.js';
import { errorText, progress, sleep } from './support/run.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET_EVENTS_PER_S = 100_000;
const TARGET_RATIO = 0.7;
const TARGET_FRESHNESS_P99_MS = 2_000;
const PROJECTION = eventsProjection;

// ---------------------------------------------------------------------------------------------------------------
// flags

interface Options {
  events: number;
  partitions: number;
  streams: number;
  producers: number;
  txEvents: number;
  preloadThreads: number;
  skipFreshness: boolean;
  freshnessSeconds: number;
  warmupSeconds: number;
  rate: number | undefined;
  peakSeconds: number;
  peakClients: number;
  pool: number;
  json: boolean;
  keep: boolean;
  profile: boolean;
  sharedEngine: boolean;
  quietPercent: number;
  quietWaitS: number;
  maxNoise: number;
  tries: number;
}

function parseFlags(argv: readonly string[]): Options {
  const program = new Command('bench:projector')
    .description('raw consume + decode vs projector into ClickHouse, and freshness under guarded load')
    .option('--events <n>', 'committed events in the pre-loaded topic', '1000000')
    .option('--partitions <n>', 'partitions of the pre-loaded topic', '12')
    .option('--streams <n>', 'streams the pre-loaded events are spread over', '10000')
    .option('--producers <n>', 'transactional producers of the pre-load (each owns a share of the partitions)', '4')
    .option('--tx-events <n>', 'events per pre-load transaction', '10000')
    .option(
      '--preload-threads <n>',
      'worker threads sharing the pre-load producers',
      String(Math.min(2, cpus().length)),
    )
    .option('--skip-freshness', 'skip the freshness phase (no guard)', false)
    .option('--freshness-seconds <s>', 'measured seconds of guarded load in the freshness phase', '30')
    .option('--warmup <s>', 'unmeasured seconds of load before the freshness window', '5')
    .option('--rate <n>', 'appends/s of the freshness load (default: half the peak measured first)')
    .option('--peak-seconds <s>', 'measured seconds of the short closed-loop peak measurement', '5')
    .option('--peak-clients <n>', 'closed-loop clients of the peak measurement', '256')
    .option('--pool <n>', 'in-flight appends at most in the open-loop freshness load', '256')
    .option('--json', 'print one JSON object on stdout instead of tables', false)
    .option('--keep', "keep the run's topics, groups, Redis keys and databases", false)
    .option('--profile', 'CPU-profile this process during phases 2 and 3 (files in the run directory)', false)
    .option(
      '--shared-engine',
      'use the stack embedded ClickHouse data path (default: a private embedded data path in the run directory; ' +
        'a ClickHouse server from CLICKHOUSE_URL is always used as is)',
      false,
    )
    .option('--quiet <percent>', 'before phases 2-4, wait until the idle machine uses less CPU (% of one core)', '40')
    .option('--quiet-wait <s>', 'longest wait for a quiet machine (0: do not wait)', '60')
    .option('--max-noise <percent>', 'measure phase 2 or 3 again when other processes took more CPU than this', '30')
    .option('--tries <n>', 'attempts at most per phase (the least disturbed one is kept)', '3')
    .parse([...argv]);
  const f = program.opts<Record<string, string | boolean | undefined>>();
  const str = (k: string) => String(f[k]);
  const producers = positive('--producers', str('producers'));
  const partitions = positive('--partitions', str('partitions'));
  return {
    events: positive('--events', str('events')),
    partitions,
    streams: positive('--streams', str('streams')),
    producers: Math.min(producers, partitions),
    txEvents: positive('--tx-events', str('txEvents')),
    preloadThreads: positive('--preload-threads', str('preloadThreads')),
    skipFreshness: f.skipFreshness === true,
    freshnessSeconds: positive('--freshness-seconds', str('freshnessSeconds'), false),
    warmupSeconds: str('warmup') === '0' ? 0 : positive('--warmup', str('warmup'), false),
    rate: f.rate === undefined ? undefined : positive('--rate', str('rate'), false),
    peakSeconds: positive('--peak-seconds', str('peakSeconds'), false),
    peakClients: positive('--peak-clients', str('peakClients')),
    pool: positive('--pool', str('pool')),
    json: f.json === true,
    keep: f.keep === true,
    profile: f.profile === true,
    sharedEngine: f.sharedEngine === true,
    quietPercent: positive('--quiet', str('quiet'), false),
    quietWaitS: str('quietWait') === '0' ? 0 : positive('--quiet-wait', str('quietWait'), false),
    maxNoise: positive('--max-noise', str('maxNoise'), false),
    tries: positive('--tries', str('tries')),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

/** Where the code a projector runs lives: a change there shows in the figures' `code`. */
const CODE_DIRS = ['projectors', 'pipeline', 'bench'];
const fmt = (n: number | undefined, digits = 0) => formatNumber(n, digits);

// ---------------------------------------------------------------------------------------------------------------
// CPU: this process (its main thread apart: the JS event loop), Kafka, the guard, the whole machine

interface CpuSnapshot {
  at: number;
  main: number;
  bench: number;
  others: Map<string, number>;
  machine: { busy: number; total: number };
  elu: ReturnType<typeof performance.eventLoopUtilization>;
}

/** CPU of a phase, in % of one core (200% = both cores of a 2-core machine). */
interface PhaseCpu {
  /** The bench process's main thread: kafkajs, decoding, rows, the JS side of inserts. */
  benchMainThread: number;
  /** The bench process's other threads: the embedded ClickHouse (chdb) and libuv's pool. */
  benchOtherThreads: number;
  /** Share of the wall time the event loop was busy (0..1). */
  eventLoopUtilization: number;
  processes: Record<string, number>;
  others: number;
  machine: number;
}

class CpuMeter {
  constructor(private readonly processes: () => { name: string; pid: number }[]) {}

  snapshot(): CpuSnapshot {
    const own = process.cpuUsage();
    const others = new Map<string, number>();
    for (const { name, pid } of this.processes()) {
      const s = statCpuSeconds(`/proc/${pid}/stat`);
      if (s !== undefined) others.set(name, (others.get(name) ?? 0) + s);
    }
    return {
      at: performance.now(),
      main: statCpuSeconds(`/proc/self/task/${process.pid}/stat`) ?? 0,
      bench: (own.user + own.system) / 1e6,
      others,
      machine: machineSeconds(),
      elu: performance.eventLoopUtilization(),
    };
  }

  static between(a: CpuSnapshot, b: CpuSnapshot): PhaseCpu {
    const wall = (b.at - a.at) / 1000;
    const pct = (s: number) => round((100 * s) / wall, 0);
    const processes: Record<string, number> = {};
    for (const [name, end] of b.others) processes[name] = pct(end - (a.others.get(name) ?? end));
    const machine = machinePercent(a.machine, b.machine);
    const bench = pct(b.bench - a.bench);
    const main = pct(b.main - a.main);
    const ours = bench + Object.values(processes).reduce((x, y) => x + y, 0);
    return {
      benchMainThread: main,
      benchOtherThreads: Math.max(0, bench - main),
      eventLoopUtilization: round(performance.eventLoopUtilization(b.elu, a.elu).utilization, 2),
      processes,
      others: round(Math.max(0, machine - ours), 0),
      machine: round(machine, 0),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CPU profile of this process's main thread (inspector), summarised by where the code comes from

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface ProfileSummary {
  file: string;
  sampledS: number;
  byOrigin: { origin: string; percent: number }[];
  topFunctions: { fn: string; percent: number }[];
}

function originOf(url: string, fn: string): string {
  if (url === '') {
    if (fn === '(garbage collector)') return 'garbage collection';
    if (fn === '(idle)') return 'idle';
    if (fn === '(program)') return '(program: native, not JS)';
    return `native: ${fn || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/dist\/([^/]+(?:\/[^/]+)?)\//.exec(url);
  if (own) return `kes ${own[1]}`;
  return url;
}

function summarizeProfile(file: string, profile: { nodes: ProfileNode[]; samples?: number[] }): ProfileSummary {
  const self = new Map<number, number>();
  for (const id of profile.samples ?? []) self.set(id, (self.get(id) ?? 0) + 1);
  const total = profile.samples?.length ?? 0;
  const byOrigin = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = self.get(node.id) ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const origin = originOf(url, functionName);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + hits);
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist)\//, '')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
  }
  const pct = (n: number) => round((100 * n) / Math.max(1, total), 1);
  return {
    file,
    sampledS: round(total / 1000, 1),
    byOrigin: [...byOrigin]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 14)
      .map(([origin, n]) => ({ origin, percent: pct(n) })),
    topFunctions: [...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([fn, n]) => ({ fn, percent: pct(n) })),
  };
}

class Profiler {
  private readonly session = new Session();
  private connected = false;

  async start(): Promise<void> {
    if (!this.connected) {
      this.session.connect();
      this.connected = true;
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 1000 });
    }
    await this.session.post('Profiler.start');
  }

  async stop(file: string): Promise<ProfileSummary> {
    const { profile } = (await this.session.post('Profiler.stop')) as unknown as {
      profile: { nodes: ProfileNode[]; samples?: number[] };
    };
    writeFileSync(file, JSON.stringify(profile));
    return summarizeProfile(file, profile);
  }

  close(): void {
    if (this.connected) this.session.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Kafka admin

// ---------------------------------------------------------------------------------------------------------------
// 1. pre-load: committed events as the guard writes them

interface StreamState {
  name: string;
  id: string;
  partition: number;
  next: number;
  currency: string;
}

interface PreloadResult {
  topic: string;
  events: number;
  transactions: number;
  producers: number;
  threads: number;
  txEvents: number;
  seconds: number;
  eventsPerSecond: number;
  bytes: number;
  endOffsets: number;
  streams: number;
  types: Record<string, number>;
  cpu: PhaseCpu;
}

const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'GBP', 'CHF'];

/** The example domain: an account opens (version 0), then money moves in and out, sometimes as part of a transfer. */
function accountEvent(s: StreamState, version: number): { type: string; data: Record<string, unknown> } {
  if (version === 0) {
    return {
      type: 'AccountOpened',
      data: { accountId: s.id, owner: `customer-${(Number(s.id) * 7919) % 100_003}`, currency: s.currency },
    };
  }
  const r = Math.random();
  const amount = 100 + Math.floor(Math.random() * 250_000);
  const transferId = r < 0.15 ? randomUUID() : null;
  return r < 0.6 || r > 0.95
    ? { type: 'MoneyDeposited', data: { amount, currency: s.currency, transferId } }
    : { type: 'MoneyWithdrawn', data: { amount, currency: s.currency, transferId } };
}

/** One transactional producer of the pre-load: the partitions it owns, their streams, and how many events it writes. */
interface PreloadProducer {
  index: number;
  streams: StreamState[];
  quota: number;
}

/**
 * Producer k owns the partitions p with p % producers = k, so a stream's versions reach its partition in order, as
 * from the guard; each producer writes a share of the events proportional to its streams.
 */
function preloadPlan(options: Options, category: string): PreloadProducer[] {
  const plan: PreloadProducer[] = Array.from({ length: options.producers }, (_, index) => ({
    index,
    streams: [],
    quota: 0,
  }));
  for (let i = 0; i < options.streams; i++) {
    const id = String(i);
    const name = `${category}-${id}`;
    const partition = partitionOf(name, options.partitions);
    plan[partition % options.producers]?.streams.push({
      name,
      id,
      partition,
      next: 0,
      currency: CURRENCIES[i % CURRENCIES.length] as string,
    });
  }
  const owning = plan.filter((p) => p.streams.length > 0);
  let left = options.events;
  owning.forEach((p, i) => {
    p.quota =
      i === owning.length - 1 ? left : Math.round((options.events * p.streams.length) / Math.max(1, options.streams));
    left -= p.quota;
  });
  return owning;
}

interface PreloadWork {
  brokers: string[];
  registryUrl: string;
  schemasDir: string;
  topic: string;
  txEvents: number;
  transactionalPrefix: string;
  producers: PreloadProducer[];
}

interface PreloadTally {
  events: number;
  transactions: number;
  bytes: number;
  types: Record<string, number>;
}

/** Runs some producers of the plan to the end of their quotas; `onCommitted` after each transaction. */
async function runPreloadProducers(work: PreloadWork, onCommitted: (events: number) => void): Promise<PreloadTally> {
  const kafka = createKafka({ KAFKA_BROKERS: work.brokers }, 'kes-bench-projector-preload', {
    logLevel: logLevel.NOTHING,
  });
  const catalog = await openEventCatalog({ registryUrl: work.registryUrl, dir: work.schemasDir });
  const producers = await Promise.all(
    work.producers.map((p) => initTransactional(kafka, `${work.transactionalPrefix}.${p.index}`, 60_000)),
  );
  const tally: PreloadTally = { events: 0, transactions: 0, bytes: 0, types: {} };
  const loop = async (plan: PreloadProducer, producer: Producer) => {
    const own = plan.streams;
    let remaining = plan.quota;
    while (remaining > 0) {
      const n = Math.min(work.txEvents, remaining);
      remaining -= n;
      // One time for the whole transaction, as the guard stamps a group commit.
      const timeMs = Date.now();
      const messages = new Array<{
        key: string;
        value: Buffer;
        partition: number;
        headers: Record<string, string>;
        timestamp: string;
      }>(n);
      for (let i = 0; i < n; i++) {
        const s = own[Math.floor(Math.random() * own.length)] as StreamState;
        const version = s.next;
        s.next += 1;
        const { type, data } = accountEvent(s, version);
        tally.types[type] = (tally.types[type] ?? 0) + 1;
        const value = catalog.encode(type, data);
        const headers = encodeHeaders({
          stream: s.name,
          version,
          eventId: randomUUID(),
          type,
          timeMs,
          contentHash: contentHash(type, data, undefined),
        });
        tally.bytes += value.length + s.name.length;
        for (const [h, v] of Object.entries(headers)) tally.bytes += h.length + v.length;
        messages[i] = { key: s.name, value, partition: s.partition, timestamp: String(timeMs), headers };
      }
      const tx = await producer.transaction();
      try {
        await tx.sendBatch({ acks: -1, timeout: 30_000, topicMessages: [{ topic: work.topic, messages }] });
        await tx.commit();
      } catch (error) {
        await tx.abort().catch(() => {});
        throw error;
      }
      tally.transactions += 1;
      tally.events += n;
      onCommitted(n);
    }
  };
  try {
    await Promise.all(work.producers.map((p, i) => loop(p, producers[i] as Producer)));
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
  }
  return tally;
}

/** The pre-load in a worker thread: building records and kafkajs' encoding are CPU-bound, one core per thread. */
function preloadInWorker(work: PreloadWork, onCommitted: (events: number) => void): Promise<PreloadTally> {
  return new Promise((resolveTally, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: work });
    let result: PreloadTally | undefined;
    worker.on('message', (m: { committed?: number; done?: PreloadTally; error?: string }) => {
      if (m.committed !== undefined) onCommitted(m.committed);
      if (m.done) result = m.done;
      if (m.error) reject(new Error(`pre-load worker: ${m.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      result ? resolveTally(result) : reject(new Error(`pre-load worker exited with ${code} before it finished`)),
    );
  });
}

async function preload(args: {
  kafka: Kafka;
  config: KesConfig;
  topic: string;
  category: string;
  options: Options;
  transactionalPrefix: string;
  cpu: CpuMeter;
}): Promise<PreloadResult> {
  const { config, options } = args;
  const plan = preloadPlan(options, args.category);
  const threads = Math.max(1, Math.min(options.preloadThreads, plan.length));
  let written = 0;
  let nextReport = options.events / 10;
  const started = performance.now();
  const onCommitted = (n: number) => {
    written += n;
    if (written >= nextReport) {
      progress(`  ${fmt(written)} events committed, ${fmt(written / ((performance.now() - started) / 1000))} events/s`);
      nextReport += options.events / 10;
    }
  };
  const cpu0 = args.cpu.snapshot();
  const tallies = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const work: PreloadWork = {
        brokers: [...config.KAFKA_BROKERS],
        registryUrl: config.SCHEMA_REGISTRY_URL,
        schemasDir: config.KES_SCHEMAS_DIR,
        topic: args.topic,
        txEvents: options.txEvents,
        transactionalPrefix: args.transactionalPrefix,
        producers: plan.filter((_, i) => i % threads === t),
      };
      return threads === 1 ? runPreloadProducers(work, onCommitted) : preloadInWorker(work, onCommitted);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = CpuMeter.between(cpu0, args.cpu.snapshot());
  const types: Record<string, number> = {};
  for (const t of tallies) for (const [type, n] of Object.entries(t.types)) types[type] = (types[type] ?? 0) + n;
  const events = tallies.reduce((n, t) => n + t.events, 0);
  const ends = await endOffsets(args.kafka, args.topic);
  return {
    topic: args.topic,
    events,
    transactions: tallies.reduce((n, t) => n + t.transactions, 0),
    producers: plan.length,
    threads,
    txEvents: options.txEvents,
    seconds,
    eventsPerSecond: events / seconds,
    bytes: tallies.reduce((n, t) => n + t.bytes, 0),
    endOffsets: [...ends.values()].reduce((a, b) => a + b, 0),
    streams: options.streams,
    types,
    cpu,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 2 and 3. the Projector over the pre-loaded topic

/** The "no sink" engine: every statement succeeds at once and nothing is stored. */
function nullEngine(): ClickHouseEngine {
  return {
    kind: 'server',
    command: async () => {},
    insert: async () => {},
    query: async <Row>() => [] as Row[],
    version: async () => 'none (no sink)',
    close: async () => {},
  };
}

/** Times the inserts into one table (the projection's sink) of the engine it wraps. */
class TimedEngine implements ClickHouseEngine {
  readonly inserts: { ms: number; rows: number }[] = [];

  constructor(
    private readonly inner: ClickHouseEngine,
    private readonly sink: string,
  ) {}

  get kind() {
    return this.inner.kind;
  }

  command(sql: string, params?: Parameters<ClickHouseEngine['command']>[1]): Promise<void> {
    return this.inner.command(sql, params);
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (table !== this.sink) return this.inner.insert(table, rows);
    const t0 = performance.now();
    await this.inner.insert(table, rows);
    this.inserts.push({ ms: performance.now() - t0, rows: rows.length });
  }

  query<Row>(sql: string, params?: Parameters<ClickHouseEngine['query']>[1]): Promise<Row[]> {
    return this.inner.query<Row>(sql, params);
  }

  version(): Promise<string> {
    return this.inner.version();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface ConsumeResult {
  label: string;
  group: string;
  events: number;
  /** From start() to every partition at its end. */
  seconds: number;
  eventsPerSecond: number;
  /** Until the consumer had its partitions (group join and sync). */
  joinSeconds: number;
  /** Events / (seconds - joinSeconds): the rate once consuming. */
  eventsPerSecondAfterJoin: number;
  inserts: number;
  meanRowsPerInsert: number;
  p50RowsPerInsert: number;
  maxRowsPerInsert: number;
  /** engine.insert alone, per insert into the sink table. */
  meanInsertMs: number;
  p99InsertMs: number;
  /** Sum of engine.insert time over the phase, as a share of the phase's wall time. */
  insertShareOfWall: number;
  /** ProjectorMetrics' kes_projector_insert_seconds: a whole flush (dead letters, inserts, offset commit). */
  meanFlushMs: number;
  flushes: number;
  cpu: PhaseCpu;
  idleBefore: number | undefined;
  /** Which attempt was kept (see --max-noise). */
  attempts?: number;
  profile?: ProfileSummary | undefined;
}

async function histogramSumCount(h: ProjectorMetrics['batchRows']): Promise<{ sum: number; count: number }> {
  const { values } = await h.get();
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v.metricName?.endsWith('_sum')) sum += v.value;
    else if (v.metricName?.endsWith('_count')) count += v.value;
  }
  return { sum, count };
}

async function consumeAll(args: {
  label: string;
  kafka: Kafka;
  engine: TimedEngine;
  catalog: ProjectionCatalog;
  version: number;
  group: string;
  topic: string;
  ends: Map<number, number>;
  config: KesConfig;
  cpu: CpuMeter;
  idleBefore: number | undefined;
  profiler: Profiler | undefined;
  profileFile: string;
  timeoutMs: number;
}): Promise<ConsumeResult> {
  const { config } = args;
  const metrics = new ProjectorMetrics();
  const deadLetters = new DeadLetterSink(
    args.kafka,
    `${config.KES_DEADLETTER_PREFIX}${PROJECTION.name}`,
    PROJECTION.name,
  );
  const reached = new Set<number>();
  for (const [p, end] of args.ends) if (end === 0) reached.add(p);
  let done: () => void = () => {};
  let failed: (error: unknown) => void = () => {};
  const finished = new Promise<void>((res, rej) => {
    done = res;
    failed = rej;
  });
  const projector = new Projector({
    kafka: args.kafka,
    engine: args.engine,
    catalog: args.catalog,
    projection: PROJECTION,
    version: args.version,
    group: args.group,
    topics: [args.topic],
    decoder: new EventDecoder(config.SCHEMA_REGISTRY_URL, config.KES_TOPIC_PREFIX),
    deadLetters,
    metrics,
    batchRows: config.KES_PROJECTOR_BATCH_ROWS,
    batchMs: config.KES_PROJECTOR_BATCH_MS,
    fetchBytes: config.KES_PROJECTOR_FETCH_BYTES,
    log: (line) => progress(`  ${line}`),
    onFlushed: (flushed) => {
      for (const f of flushed) {
        if (f.topic === args.topic && f.nextOffset >= (args.ends.get(f.partition) ?? Number.POSITIVE_INFINITY)) {
          reached.add(f.partition);
        }
      }
      if (reached.size >= args.ends.size) done();
    },
    onCrash: (error) => failed(error),
  });
  if (reached.size >= args.ends.size) done();
  await args.profiler?.start();
  const cpu0 = args.cpu.snapshot();
  const t0 = performance.now();
  let joinedAt: number | undefined;
  const joinWatch = setInterval(() => {
    if (joinedAt === undefined && projector.assignedPartitions > 0) joinedAt = performance.now();
  }, 2);
  let timer: NodeJS.Timeout | undefined;
  try {
    await projector.start();
    await Promise.race([
      finished,
      new Promise<never>((_, rej) => {
        timer = setTimeout(
          () => rej(new Error(`${args.label}: not at the end of every partition after ${args.timeoutMs / 1000} s`)),
          args.timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(joinWatch);
  }
  const t1 = performance.now();
  const cpu = CpuMeter.between(cpu0, args.cpu.snapshot());
  const profile = args.profiler ? await args.profiler.stop(args.profileFile) : undefined;
  await projector.stop();
  await deadLetters.close();

  const rows = await histogramSumCount(metrics.batchRows);
  const flushes = await histogramSumCount(metrics.insertSeconds);
  const { values } = await metrics.rows.get();
  const events = values.reduce((n, v) => n + v.value, 0);
  const dead = (await metrics.deadLetters.get()).values.reduce((n, v) => n + v.value, 0);
  if (dead > 0) throw new Error(`${args.label}: ${dead} records went to the dead-letter topic`);
  const seconds = (t1 - t0) / 1000;
  const joinSeconds = ((joinedAt ?? t0) - t0) / 1000;
  const inserts = args.engine.inserts;
  const sizes = inserts.map((i) => i.rows).sort((a, b) => a - b);
  const times = inserts.map((i) => i.ms).sort((a, b) => a - b);
  const insertMs = times.reduce((a, b) => a + b, 0);
  return {
    label: args.label,
    group: args.group,
    events,
    seconds,
    eventsPerSecond: events / seconds,
    joinSeconds,
    eventsPerSecondAfterJoin: events / (seconds - joinSeconds),
    inserts: rows.count,
    meanRowsPerInsert: rows.count > 0 ? rows.sum / rows.count : Number.NaN,
    p50RowsPerInsert: percentile(sizes, 50),
    maxRowsPerInsert: sizes[sizes.length - 1] ?? Number.NaN,
    meanInsertMs: times.length > 0 ? insertMs / times.length : Number.NaN,
    p99InsertMs: percentile(times, 99),
    insertShareOfWall: insertMs / (t1 - t0),
    meanFlushMs: flushes.count > 0 ? (1000 * flushes.sum) / flushes.count : Number.NaN,
    flushes: flushes.count,
    cpu,
    idleBefore: args.idleBefore,
    profile,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 4. freshness under guarded load

/** What the load knows of its streams: the version each last saw, so appends carry the right expectedVersion. */
class LoadStreams {
  private readonly known = new Map<string, number>();
  private n = 0;
  ok = 0;

  constructor(
    private readonly category: string,
    private readonly count: number,
  ) {}

  pick(): { stream: string; expected: Expected; type: string; data: Record<string, unknown> } {
    const i = Math.floor(Math.random() * this.count);
    const stream = `${this.category}-${i}`;
    const v = this.known.get(stream);
    const s: StreamState = { name: stream, id: String(i), partition: 0, next: 0, currency: 'EUR' };
    const { type, data } = accountEvent(s, v === undefined ? 0 : v + 1);
    return { stream, expected: v === undefined ? 'no_stream' : v, type, data };
  }

  async append(client: HttpLoadClient): Promise<LoadAttempt> {
    const { stream, expected, type, data } = this.pick();
    this.n += 1;
    const a = await client.append(stream, expected, [{ id: randomUUID(), type, data }]);
    const o = a.outcome;
    if (o.status === 'ok') {
      this.ok += 1;
      if ((this.known.get(stream) ?? -1) < o.result.lastVersion) this.known.set(stream, o.result.lastVersion);
    } else if (o.status === 'conflict' && Number.isFinite(o.actual)) {
      this.known.set(stream, o.actual);
    }
    return a;
  }
}

async function closedLoopPeak(
  client: HttpLoadClient,
  streams: LoadStreams,
  clients: number,
  warmupMs: number,
  durationMs: number,
): Promise<{ appendsPerSecond: number; p99Ms: number }> {
  let measuring = false;
  let stop = false;
  let ok = 0;
  const latencies: number[] = [];
  const worker = async () => {
    while (!stop) {
      const t0 = performance.now();
      const a = await streams.append(client);
      if (measuring && a.outcome.status === 'ok') {
        ok += 1;
        latencies.push(performance.now() - t0);
      }
    }
  };
  const workers = Array.from({ length: clients }, () => worker());
  await sleep(warmupMs);
  measuring = true;
  const t0 = performance.now();
  await sleep(durationMs);
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  return {
    appendsPerSecond: ok / seconds,
    p99Ms: percentile(
      latencies.sort((a, b) => a - b),
      99,
    ),
  };
}

interface OpenLoopResult {
  rate: number;
  appendsPerSecond: number;
  scheduled: number;
  ok: number;
  failed: number;
  poolWaits: number;
  p50Ms: number;
  p99Ms: number;
  /** Epoch ms of the measured window (appends due in it). */
  windowFromMs: number;
  windowToMs: number;
}

/** Appends due on a fixed schedule (k / rate), at most `pool` in flight; latency from the due time. */
async function openLoop(
  client: HttpLoadClient,
  streams: LoadStreams,
  rate: number,
  pool: number,
  warmupMs: number,
  durationMs: number,
): Promise<OpenLoopResult> {
  const interval = 1000 / rate;
  const start = performance.now() + 10;
  const from = start + warmupMs;
  const to = from + durationMs;
  const epochOffset = Date.now() - performance.now();
  let k = 0;
  let inflight = 0;
  let scheduled = 0;
  let ok = 0;
  let failed = 0;
  let poolWaits = 0;
  let blocked = false;
  let allIssued = false;
  const latencies: number[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  const issue = (due: number) => {
    const measured = due >= from && due < to;
    if (measured) {
      scheduled += 1;
      if (blocked) poolWaits += 1;
    }
    inflight += 1;
    void streams.append(client).then((a) => {
      inflight -= 1;
      if (measured) {
        if (a.outcome.status === 'ok') {
          ok += 1;
          latencies.push(performance.now() - due);
        } else if (a.outcome.status !== 'conflict') failed += 1;
      }
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
        blocked = true;
        break;
      }
      blocked = false;
      issue(due);
      k += 1;
    }
  };
  const timer = setInterval(pump, 1);
  while (!allIssued) await sleep(20);
  clearInterval(timer);
  if (inflight > 0) await finished;
  latencies.sort((a, b) => a - b);
  return {
    rate,
    appendsPerSecond: ok / (durationMs / 1000),
    scheduled,
    ok,
    failed,
    poolWaits,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    windowFromMs: Math.round(from + epochOffset),
    windowToMs: Math.round(to + epochOffset),
  };
}

interface FreshnessResult {
  peakAppendsPerSecond: number | undefined;
  peakP99Ms: number | undefined;
  load: OpenLoopResult;
  /** Events appended (kes-time) inside the window and found in the events view. */
  events: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  cpu: PhaseCpu;
  idleBefore: number | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// output

function cpuLine(c: PhaseCpu): string {
  const procs = Object.entries(c.processes)
    .map(([k, v]) => `${k} ${v}%`)
    .join(', ');
  return (
    `bench main thread ${c.benchMainThread}% (event loop busy ${Math.round(c.eventLoopUtilization * 100)}%), ` +
    `bench other threads ${c.benchOtherThreads}%${procs ? `, ${procs}` : ''}, others ${c.others}%, machine ${c.machine}% of one core`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// main

async function main(): Promise<void> {
  const options = parseFlags(process.argv);
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const namespace = `bench_${id}`;
  const category = `account_${createHash('sha1').update(id).digest('hex').slice(0, 6)}`;
  const runDir = join(loadConfig().KES_HOME, 'bench', `projector-${id}`);
  mkdirSync(runDir, { recursive: true });
  const base = loadConfig();
  const privateEngine = !base.CLICKHOUSE_URL && !options.sharedEngine;
  /** The settings of one part of the run: its own topic prefix, groups, dead letters and database. */
  const configFor = (part: string) =>
    loadConfig({
      overrides: {
        KES_TOPIC_PREFIX: `${namespace}.${part}.`,
        KES_PROJECTOR_GROUP_PREFIX: `${namespace}.${part}.projector.`,
        KES_DEADLETTER_PREFIX: `${namespace}.${part}.deadletter.`,
        KES_CLICKHOUSE_DATABASE: `${namespace}_${part}`,
        KES_REDIS_PREFIX: `${namespace}:`,
        KES_TOPIC_PARTITIONS: String(options.partitions),
        ...(privateEngine ? { CLICKHOUSE_EMBEDDED_PATH: join(runDir, 'chdb') } : {}),
      },
    });
  const config = configFor('load');
  const freshConfig = configFor('fresh');
  const topic = `${config.KES_TOPIC_PREFIX}${category}`;
  progress(`run ${id}: topic ${topic}, logs and profiles in ${runDir}`);
  progress(
    `projector settings: KES_PROJECTOR_BATCH_ROWS=${config.KES_PROJECTOR_BATCH_ROWS} KES_PROJECTOR_BATCH_MS=${config.KES_PROJECTOR_BATCH_MS} ` +
      `KES_PROJECTOR_FETCH_BYTES=${config.KES_PROJECTOR_FETCH_BYTES}`,
  );

  const kafka = createKafka(config, `kes-bench-projector-${id}`, { logLevel: logLevel.NOTHING });
  const stack = stackPids(ROOT).filter((s) =>
    ['kafka', 'redis', 'registry', 'clickhouse', 'clickhouse-embedded'].includes(s.name),
  );
  let guard: GuardProcess | undefined;
  const cpu = new CpuMeter(() => [
    ...stack,
    ...(guard?.child.pid === undefined ? [] : [{ name: 'guard', pid: guard.child.pid }]),
  ]);
  const profiler = options.profile ? new Profiler() : undefined;
  let engine: ClickHouseEngine | undefined;
  const databases: string[] = [];
  const groups: string[] = [];
  let loadClient: HttpLoadClient | undefined;
  let service: ProjectorService | undefined;
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});

  try {
    assertReadCommittedPatched();

    // 1. pre-load
    // Registers the schemas (idempotent) and fails early on one the registry refuses.
    await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
    await ensureTopic(kafka, topic, options.partitions, config.KES_TOPIC_REPLICATION, [
      { name: 'retention.ms', value: '-1' },
    ]);
    progress(
      `pre-load: ${fmt(options.events)} events over ${fmt(options.streams)} streams into ${options.partitions} partitions, ` +
        `${options.producers} transactional producers in ${options.preloadThreads} thread(s), ${fmt(options.txEvents)} events per transaction`,
    );
    const loaded = await preload({
      kafka,
      config,
      topic,
      category,
      options,
      transactionalPrefix: `kes-bench-projector.${id}`,
      cpu,
    });
    const ends = await endOffsets(kafka, topic);
    progress(
      `  ${fmt(loaded.events)} events in ${loaded.seconds.toFixed(1)} s = ${fmt(loaded.eventsPerSecond)} events/s ` +
        `(${loaded.transactions} transactions, ${loaded.producers} producers in ${loaded.threads} thread(s), ${(loaded.bytes / loaded.events).toFixed(0)} bytes per record); ${cpuLine(loaded.cpu)}`,
    );

    /**
     * Runs a measured phase after waiting for a quiet machine; when other processes still took more than
     * --max-noise of a core during it, runs it again (up to --tries, each on fresh groups and a fresh database) and
     * keeps the least disturbed attempt.
     */
    const measured = async <T extends { cpu: PhaseCpu; attempts?: number }>(
      name: string,
      run: (attempt: number, idleBefore: number | undefined) => Promise<T>,
    ): Promise<T> => {
      let kept: T | undefined;
      for (let attempt = 1; attempt <= options.tries; attempt++) {
        const idle = await quietBefore({ ...options, quietWaitMs: options.quietWaitS * 1000 });
        const r = await run(attempt, idle);
        r.attempts = attempt;
        if (kept === undefined || r.cpu.others < kept.cpu.others) kept = r;
        if (r.cpu.others <= options.maxNoise) break;
        if (attempt < options.tries) {
          progress(
            `  other processes took ${r.cpu.others}% of a core during ${name} (--max-noise ${options.maxNoise}); measuring it again`,
          );
        }
      }
      return kept as T;
    };

    // 2. raw consume + decode (no sink)
    progress('raw consume + decode (Projector, engine without a sink)');
    const raw = await measured('raw consume + decode', async (attempt, idleBefore) => {
      const sink = versioned(config.KES_CLICKHOUSE_DATABASE, PROJECTION.sinkTable, 1);
      const nothing = new TimedEngine(nullEngine(), sink);
      const group = `${namespace}.load.raw.${attempt}`;
      groups.push(group);
      const r = await consumeAll({
        label: 'raw consume + decode',
        kafka,
        engine: nothing,
        catalog: new ProjectionCatalog(nothing, config.KES_CLICKHOUSE_DATABASE, config.KES_PROJECTOR_GROUP_PREFIX),
        version: 1,
        group,
        topic,
        ends,
        config,
        cpu,
        idleBefore,
        profiler,
        profileFile: join(runDir, `raw-${attempt}.cpuprofile`),
        timeoutMs: 600_000,
      });
      if (r.events !== loaded.events) throw new Error(`raw phase saw ${r.events} events, expected ${loaded.events}`);
      progress(
        `  ${fmt(r.events)} events in ${r.seconds.toFixed(2)} s = ${fmt(r.eventsPerSecond)} events/s ` +
          `(group join ${r.joinSeconds.toFixed(2)} s); ${r.inserts} batches of ${fmt(r.meanRowsPerInsert)} rows on average; ${cpuLine(r.cpu)}`,
      );
      return r;
    });

    // 3. projector into ClickHouse
    engine = await openEngine(config, { progress: (line) => progress(`  ${line}`) });
    const chEngine = engine;
    const engineVersion = await engine.version();
    progress(
      `projector into ClickHouse: ${engine.kind} engine ${engineVersion}` +
        `${engine.kind === 'server' ? ` at ${config.CLICKHOUSE_URL}` : ` at ${config.CLICKHOUSE_EMBEDDED_PATH}`}`,
    );
    let inView = 0;
    const ch = await measured('the projector into ClickHouse', async (attempt, idleBefore) => {
      // Every attempt on a database and consumer group of its own; the previous attempt's database is dropped.
      const database = attempt === 1 ? config.KES_CLICKHOUSE_DATABASE : `${config.KES_CLICKHOUSE_DATABASE}_${attempt}`;
      for (const db of databases.splice(0)) {
        await chEngine.command(`DROP DATABASE IF EXISTS ${quote(db)}`).catch(() => {});
      }
      databases.push(database);
      const timed = new TimedEngine(chEngine, versioned(database, PROJECTION.sinkTable, 1));
      const chCatalog = new ProjectionCatalog(timed, database, `${config.KES_PROJECTOR_GROUP_PREFIX}${attempt}.`);
      const serving = await chCatalog.install(PROJECTION);
      groups.push(serving.group);
      const r = await consumeAll({
        label: 'projector into ClickHouse',
        kafka,
        engine: timed,
        catalog: chCatalog,
        version: serving.version,
        group: serving.group,
        topic,
        ends,
        config,
        cpu,
        idleBefore,
        profiler,
        profileFile: join(runDir, `clickhouse-${attempt}.cpuprofile`),
        timeoutMs: 900_000,
      });
      const [counted] = await chEngine.query<{ n: number | string }>(
        `SELECT count() AS n FROM ${qualified(database, 'events')}`,
      );
      inView = Number(counted?.n ?? 0);
      if (inView !== loaded.events) {
        throw new Error(`the events view of ${database} has ${inView} events, expected ${loaded.events}`);
      }
      progress(
        `  ${fmt(r.events)} events in ${r.seconds.toFixed(2)} s = ${fmt(r.eventsPerSecond)} events/s, ${(r.eventsPerSecond / raw.eventsPerSecond).toFixed(2)} × raw ` +
          `(group join ${r.joinSeconds.toFixed(2)} s); count(events) in ${database} = ${fmt(inView)}; ${r.inserts} inserts of ${fmt(r.meanRowsPerInsert)} rows ` +
          `on average, ${fmt(r.meanInsertMs)} ms each (${Math.round(r.insertShareOfWall * 100)}% of the wall time); ${cpuLine(r.cpu)}`,
      );
      return r;
    });
    const ratio = ch.eventsPerSecond / raw.eventsPerSecond;

    // 4. freshness
    let fresh: FreshnessResult | undefined;
    if (!options.skipFreshness) {
      progress('freshness: a guard, a projector service, an open-loop guarded load');
      guard = await startGuardProcess({
        name: 'the guard',
        root: ROOT,
        logPath: join(runDir, 'guard.log'),
        env: {
          ...process.env,
          KES_TOPIC_PREFIX: freshConfig.KES_TOPIC_PREFIX,
          KES_REDIS_PREFIX: freshConfig.KES_REDIS_PREFIX,
          KES_TOPIC_PARTITIONS: String(options.partitions),
          KES_LOG_LEVEL: process.env.KES_LOG_LEVEL ?? 'warn',
        },
      });
      loadClient = new HttpLoadClient({ url: guard.url, apiKey: LOCAL_DEV_KEY, maxSockets: options.pool + 8 });
      await waitReady(guard, loadClient, 120_000);
      const streams = new LoadStreams(category, options.streams);
      const first = await streams.append(loadClient);
      if (first.outcome.status !== 'ok') throw new Error(`first append failed: ${JSON.stringify(first.outcome)}`);
      progress(`  guard ready at ${guard.url} (pid ${guard.child.pid})`);

      let peak: { appendsPerSecond: number; p99Ms: number } | undefined;
      if (options.rate === undefined) {
        peak = await closedLoopPeak(loadClient, streams, options.peakClients, 3_000, options.peakSeconds * 1000);
        progress(
          `  guard peak: ${fmt(peak.appendsPerSecond)} appends/s at ${options.peakClients} closed-loop clients (p99 ${fmt(peak.p99Ms, 1)} ms)`,
        );
      }
      const rate = options.rate ?? (peak?.appendsPerSecond ?? 0) / 2;

      service = new ProjectorService({
        settings: freshConfig,
        kafka,
        engine,
        projections: [PROJECTION],
        metrics: new ProjectorMetrics(),
        log: (line) => progress(`  ${line}`),
        onFatal: (error) => progress(`  projector service stopped: ${errorText(error)}`),
      });
      databases.push(freshConfig.KES_CLICKHOUSE_DATABASE);
      await service.start();
      const freshGroup = service.runtime()[0]?.group;
      if (freshGroup) groups.push(freshGroup);
      const eventsView = qualified(freshConfig.KES_CLICKHOUSE_DATABASE, 'events');
      const countAll = async () =>
        Number(
          (await engine?.query<{ n: number | string }>(`SELECT count() AS n FROM ${eventsView}`))?.[0]?.n ?? Number.NaN,
        );
      const caughtUp = async (expected: number, timeoutMs: number) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const n = await countAll();
          if (n >= expected) return n;
          if (Date.now() > deadline)
            throw new Error(`the projector has ${n} of ${expected} events after ${timeoutMs} ms`);
          await sleep(200);
        }
      };
      await caughtUp(streams.ok, 120_000);
      progress(`  projector service caught up (${fmt(streams.ok)} events so far); load at ${fmt(rate)} appends/s`);

      const idleFresh = await quietBefore({ ...options, quietWaitMs: options.quietWaitS * 1000 });
      const cpu0 = cpu.snapshot();
      const load = await openLoop(
        loadClient,
        streams,
        rate,
        options.pool,
        options.warmupSeconds * 1000,
        options.freshnessSeconds * 1000,
      );
      const freshCpu = CpuMeter.between(cpu0, cpu.snapshot());
      await caughtUp(streams.ok, 120_000);
      const [q] = await engine.query<{ n: number | string; q: number[]; mx: number | string; mean: number | string }>(
        `SELECT count() AS n, quantilesExact(0.5, 0.99)(ms) AS q, max(ms) AS mx, avg(ms) AS mean FROM (
           SELECT toUnixTimestamp64Milli(projected_at) - toUnixTimestamp64Milli(time) AS ms FROM ${eventsView}
           WHERE category = {category:String}
             AND toUnixTimestamp64Milli(time) >= {from:Int64} AND toUnixTimestamp64Milli(time) < {to:Int64})`,
        { category, from: load.windowFromMs, to: load.windowToMs },
      );
      fresh = {
        peakAppendsPerSecond: peak?.appendsPerSecond,
        peakP99Ms: peak?.p99Ms,
        load,
        events: Number(q?.n ?? 0),
        p50Ms: Number(q?.q[0]),
        p99Ms: Number(q?.q[1]),
        maxMs: Number(q?.mx),
        meanMs: Number(q?.mean),
        cpu: freshCpu,
        idleBefore: idleFresh,
      };
      progress(
        `  ${fmt(load.appendsPerSecond)} appends/s for ${options.freshnessSeconds} s (append p99 ${fmt(load.p99Ms, 1)} ms); ` +
          `freshness of ${fmt(fresh.events)} events: p50 ${fmt(fresh.p50Ms)} ms, p99 ${fmt(fresh.p99Ms)} ms, max ${fmt(fresh.maxMs)} ms; ${cpuLine(freshCpu)}`,
      );
    }

    // 5. figures
    const verdicts: Verdict[] = [
      {
        target: `projector into ClickHouse ≥ ${fmt(TARGET_EVENTS_PER_S)} events/s per process`,
        measured: `${fmt(ch.eventsPerSecond)} events/s`,
        result: ch.eventsPerSecond >= TARGET_EVENTS_PER_S ? 'PASS' : 'FAIL',
      },
      {
        target: `projector ≥ ${TARGET_RATIO} × raw consume + decode`,
        measured: `${fmt(ch.eventsPerSecond)} / ${fmt(raw.eventsPerSecond)} = ${ratio.toFixed(2)}`,
        result: ratio >= TARGET_RATIO ? 'PASS' : 'FAIL',
      },
      {
        target: `freshness p99 < ${fmt(TARGET_FRESHNESS_P99_MS)} ms at ${options.rate === undefined ? 'half the guard peak' : '--rate'}`,
        measured: fresh
          ? `p99 ${fmt(fresh.p99Ms)} ms (p50 ${fmt(fresh.p50Ms)}) at ${fmt(fresh.load.appendsPerSecond)} appends/s`
          : 'skipped',
        result: fresh === undefined ? 'n/a' : fresh.p99Ms < TARGET_FRESHNESS_P99_MS ? 'PASS' : 'FAIL',
      },
    ];
    const m = machine(ROOT, CODE_DIRS);
    const out = {
      run: {
        id,
        runDir,
        machine: m,
        topic,
        partitions: options.partitions,
        streams: options.streams,
        engine: {
          kind: engine.kind,
          version: engineVersion,
          where: engine.kind === 'server' ? config.CLICKHOUSE_URL : config.CLICKHOUSE_EMBEDDED_PATH,
        },
        settings: {
          KES_PROJECTOR_BATCH_ROWS: config.KES_PROJECTOR_BATCH_ROWS,
          KES_PROJECTOR_BATCH_MS: config.KES_PROJECTOR_BATCH_MS,
          KES_PROJECTOR_FETCH_BYTES: config.KES_PROJECTOR_FETCH_BYTES,
        },
      },
      preload: {
        events: loaded.events,
        transactions: loaded.transactions,
        producers: loaded.producers,
        eventsPerTransaction: loaded.txEvents,
        threads: loaded.threads,
        seconds: round(loaded.seconds, 2),
        eventsPerSecond: round(loaded.eventsPerSecond, 0),
        bytesPerRecord: round(loaded.bytes / loaded.events, 0),
        types: loaded.types,
        cpuPercent: loaded.cpu,
        cpuUsPerEvent: usPerEvent(loaded.cpu, loaded.seconds, loaded.events),
      },
      raw: phaseJson(raw),
      clickhouse: { ...phaseJson(ch), countInEventsView: inView },
      ratio: round(ratio, 3),
      freshness: fresh
        ? {
            peakAppendsPerSecond:
              fresh.peakAppendsPerSecond === undefined ? null : round(fresh.peakAppendsPerSecond, 0),
            rate: round(fresh.load.rate, 0),
            appendsPerSecond: round(fresh.load.appendsPerSecond, 0),
            seconds: options.freshnessSeconds,
            scheduled: fresh.load.scheduled,
            ok: fresh.load.ok,
            failed: fresh.load.failed,
            poolWaits: fresh.load.poolWaits,
            appendLatencyMs: { p50: round(fresh.load.p50Ms, 1), p99: round(fresh.load.p99Ms, 1) },
            events: fresh.events,
            freshnessMs: { p50: fresh.p50Ms, p99: fresh.p99Ms, max: fresh.maxMs, mean: round(fresh.meanMs, 1) },
            cpuPercent: fresh.cpu,
            idleMachineBefore: fresh.idleBefore ?? null,
          }
        : null,
      targets: verdicts,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      type Row = {
        phase: string;
        events: number;
        seconds: number;
        rate: number;
        join?: number;
        inserts?: number;
        rows?: number;
        insertMs?: number;
        share?: number;
        flushMs?: number;
      };
      const rows: Row[] = [
        {
          phase: 'pre-load (transactional produce)',
          events: loaded.events,
          seconds: loaded.seconds,
          rate: loaded.eventsPerSecond,
        },
        {
          phase: 'raw consume + decode (no sink)',
          events: raw.events,
          seconds: raw.seconds,
          rate: raw.eventsPerSecond,
          join: raw.joinSeconds,
          inserts: raw.inserts,
          rows: raw.meanRowsPerInsert,
          flushMs: raw.meanFlushMs,
        },
        {
          phase: 'projector into ClickHouse',
          events: ch.events,
          seconds: ch.seconds,
          rate: ch.eventsPerSecond,
          join: ch.joinSeconds,
          inserts: ch.inserts,
          rows: ch.meanRowsPerInsert,
          insertMs: ch.meanInsertMs,
          share: ch.insertShareOfWall,
          flushMs: ch.meanFlushMs,
        },
      ];
      const columns: Column<Row>[] = [
        { header: 'phase', value: (r) => r.phase },
        { header: 'events', value: (r) => fmt(r.events), align: 'right' },
        { header: 'seconds', value: (r) => fmt(r.seconds, 2), align: 'right' },
        { header: 'events/s', value: (r) => fmt(r.rate), align: 'right' },
        { header: 'join s', value: (r) => fmt(r.join, 2), align: 'right' },
        { header: 'batches', value: (r) => fmt(r.inserts), align: 'right' },
        { header: 'mean rows/batch', value: (r) => fmt(r.rows), align: 'right' },
        { header: 'mean insert ms', value: (r) => fmt(r.insertMs, 1), align: 'right' },
        {
          header: 'insert % of wall',
          value: (r) => (r.share === undefined ? '—' : `${Math.round(r.share * 100)}%`),
          align: 'right',
        },
        { header: 'mean flush ms', value: (r) => fmt(r.flushMs, 1), align: 'right' },
      ];
      const cpuRows: {
        phase: string;
        c: PhaseCpu;
        perEvent?: { main: number; bench: number };
        idle?: number | undefined;
        attempt?: number | undefined;
      }[] = [
        { phase: 'pre-load', c: loaded.cpu, perEvent: usPerEvent(loaded.cpu, loaded.seconds, loaded.events) },
        {
          phase: 'raw consume + decode',
          c: raw.cpu,
          perEvent: usPerEvent(raw.cpu, raw.seconds, raw.events),
          idle: raw.idleBefore,
          attempt: raw.attempts,
        },
        {
          phase: 'projector into ClickHouse',
          c: ch.cpu,
          perEvent: usPerEvent(ch.cpu, ch.seconds, ch.events),
          idle: ch.idleBefore,
          attempt: ch.attempts,
        },
        ...(fresh ? [{ phase: 'freshness load', c: fresh.cpu, idle: fresh.idleBefore }] : []),
      ];
      const names = [...new Set(cpuRows.flatMap((r) => Object.keys(r.c.processes)))];
      const cpuColumns: Column<(typeof cpuRows)[number]>[] = [
        { header: 'CPU % of one core', value: (r) => r.phase },
        { header: 'bench main thread', value: (r) => r.c.benchMainThread, align: 'right' },
        { header: 'event loop busy', value: (r) => `${Math.round(r.c.eventLoopUtilization * 100)}%`, align: 'right' },
        { header: 'bench other threads', value: (r) => r.c.benchOtherThreads, align: 'right' },
        ...names.map((n) => ({
          header: n,
          value: (r: { c: PhaseCpu }) => r.c.processes[n] ?? '—',
          align: 'right' as const,
        })),
        { header: 'others', value: (r) => r.c.others, align: 'right' },
        { header: 'machine', value: (r) => r.c.machine, align: 'right' },
        { header: 'bench µs/event: main thread', value: (r) => fmt(r.perEvent?.main, 1), align: 'right' },
        { header: 'all threads', value: (r) => fmt(r.perEvent?.bench, 1), align: 'right' },
        { header: 'idle machine before', value: (r) => r.idle ?? '—', align: 'right' },
        { header: 'attempt', value: (r) => r.attempt ?? '—', align: 'right' },
      ];
      const lines = [
        `kes projector benchmark ${id} — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, ${m.date}, code ${m.code}`,
        `${fmt(loaded.events)} events (${Object.entries(loaded.types)
          .map(([t, n]) => `${t} ${fmt(n)}`)
          .join(', ')}), ${fmt(options.streams)} streams, ${options.partitions} partitions, ` +
          `${fmt(loaded.bytes / loaded.events)} bytes per record; ClickHouse: ${engine.kind} ${engineVersion}; ` +
          `KES_PROJECTOR_BATCH_ROWS=${config.KES_PROJECTOR_BATCH_ROWS} KES_PROJECTOR_BATCH_MS=${config.KES_PROJECTOR_BATCH_MS} ` +
          `KES_PROJECTOR_FETCH_BYTES=${config.KES_PROJECTOR_FETCH_BYTES}`,
        renderRows(rows, columns, 'table'),
        `events/s = events / (start() → every partition at its end), group join included; after the join: raw ${fmt(raw.eventsPerSecondAfterJoin)}, ` +
          `ClickHouse ${fmt(ch.eventsPerSecondAfterJoin)} events/s. Insert ms = engine.insert alone (p99 ${fmt(ch.p99InsertMs)} ms); ` +
          `flush = dead letters + inserts + offset commit (kes_projector_insert_seconds). count(events) = ${fmt(inView)}.`,
      ];
      if (fresh) {
        const l = fresh.load;
        lines.push(
          renderRows(
            [
              {
                rate: l.rate,
                achieved: l.appendsPerSecond,
                appendP50: l.p50Ms,
                appendP99: l.p99Ms,
                events: fresh.events,
                p50: fresh.p50Ms,
                p99: fresh.p99Ms,
                max: fresh.maxMs,
                mean: fresh.meanMs,
              },
            ],
            [
              {
                header: 'freshness load',
                value: (r) =>
                  `${fmt(r.rate)} appends/s (${fresh?.peakAppendsPerSecond === undefined ? '--rate' : `half of a ${fmt(fresh.peakAppendsPerSecond)}/s peak`})`,
              },
              { header: 'achieved/s', value: (r) => fmt(r.achieved), align: 'right' },
              {
                header: 'append p50/p99 ms',
                value: (r) => `${fmt(r.appendP50, 1)} / ${fmt(r.appendP99, 1)}`,
                align: 'right',
              },
              { header: 'events in window', value: (r) => fmt(r.events), align: 'right' },
              { header: 'freshness p50 ms', value: (r) => fmt(r.p50), align: 'right' },
              { header: 'p99 ms', value: (r) => fmt(r.p99), align: 'right' },
              { header: 'max ms', value: (r) => fmt(r.max), align: 'right' },
              { header: 'mean ms', value: (r) => fmt(r.mean), align: 'right' },
            ],
            'table',
          ),
          `freshness = projected_at − time in the events view (ClickHouse's now64(3) at insert − the guard's kes-time), ` +
            `events appended in the ${options.freshnessSeconds} s window after ${options.warmupSeconds} s of warm-up`,
        );
      }
      lines.push(
        renderRows(cpuRows, cpuColumns, 'table'),
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
      for (const p of [raw, ch]) {
        if (p.cpu.others > options.maxNoise) {
          lines.push(
            `WARNING: ${p.label} was measured while other processes took ${p.cpu.others}% of a core (least disturbed of ${p.attempts ?? 1} attempts): its figures, and the ratio, are disturbed`,
          );
        }
      }
      for (const p of [raw, ch]) {
        if (!p.profile) continue;
        lines.push(
          `CPU profile of the main thread, ${p.label} (${p.profile.sampledS} s sampled, ${p.profile.file}):`,
          `  by origin: ${p.profile.byOrigin.map((o) => `${o.origin} ${o.percent}%`).join(', ')}`,
          `  top self time: ${p.profile.topFunctions.map((f) => `${f.fn} ${f.percent}%`).join('; ')}`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } finally {
    profiler?.close();
    loadClient?.close();
    await service?.stop().catch(() => {});
    if (guard) await stopGuard(guard, progress).catch(() => {});
    if (!options.keep) {
      await cleanUp({ kafka, redis, engine, namespace, databases, groups }).catch((error: unknown) =>
        progress(`clean-up incomplete: ${errorText(error)}`),
      );
    }
    await engine?.close().catch(() => {});
    if (!options.keep && privateEngine) rmSync(join(runDir, 'chdb'), { recursive: true, force: true });
    redis.disconnect();
  }
}

/** CPU of the bench process per event, in µs: its main thread, and all its threads. */
function usPerEvent(c: PhaseCpu, seconds: number, events: number): { main: number; bench: number } {
  const us = (pct: number) => ((pct / 100) * seconds * 1e6) / Math.max(1, events);
  return { main: us(c.benchMainThread), bench: us(c.benchMainThread + c.benchOtherThreads) };
}

function phaseJson(p: ConsumeResult) {
  return {
    events: p.events,
    seconds: round(p.seconds, 3),
    eventsPerSecond: round(p.eventsPerSecond, 0),
    joinSeconds: round(p.joinSeconds, 3),
    eventsPerSecondAfterJoin: round(p.eventsPerSecondAfterJoin, 0),
    batches: p.inserts,
    meanRowsPerBatch: round(p.meanRowsPerInsert, 0),
    p50RowsPerBatch: p.p50RowsPerInsert,
    maxRowsPerBatch: p.maxRowsPerInsert,
    meanInsertMs: round(p.meanInsertMs, 1),
    p99InsertMs: round(p.p99InsertMs, 1),
    insertShareOfWall: round(p.insertShareOfWall, 3),
    meanFlushMs: round(p.meanFlushMs, 1),
    cpuPercent: p.cpu,
    cpuUsPerEvent: usPerEvent(p.cpu, p.seconds, p.events),
    idleMachineBefore: p.idleBefore ?? null,
    attempt: p.attempts ?? 1,
    profile: p.profile ?? null,
  };
}

/** Deletes the run's topics, consumer groups, Redis keys and databases. */
async function cleanUp(args: {
  kafka: Kafka;
  redis: Redis;
  engine: ClickHouseEngine | undefined;
  namespace: string;
  databases: string[];
  groups: string[];
}): Promise<void> {
  const problems: string[] = [];
  await withAdmin(args.kafka, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${args.namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const groups = args.groups.filter((g) => existing.has(g));
    if (groups.length > 0) await admin.deleteGroups(groups).catch((e: unknown) => problems.push(errorText(e)));
  }).catch((e: unknown) => problems.push(`topics: ${errorText(e)}`));
  for (const db of args.databases) {
    await args.engine
      ?.command(`DROP DATABASE IF EXISTS ${quote(db)}`)
      .catch((e: unknown) => problems.push(errorText(e)));
  }
  try {
    await args.redis.connect().catch(() => {});
    for await (const keys of args.redis.scanStream({ match: `${args.namespace}:*`, count: 1000 })) {
      if ((keys as string[]).length > 0) await args.redis.del(...(keys as string[]));
    }
  } catch (e) {
    problems.push(`redis: ${errorText(e)}`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  progress(`deleted the run's topics, consumer groups, Redis keys and databases (--keep keeps them)`);
}

if (isMainThread) {
  main().then(
    () => {
      // kafkajs and the HTTP agents can keep timers alive for a while; the figures are out.
      setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
    },
    (error: unknown) => {
      process.stderr.write(
        `bench:projector: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 500).unref();
    },
  );
} else {
  // A pre-load worker (preloadInWorker): its share of the producers, progress and the tally back to the main thread.
  runPreloadProducers(workerData as PreloadWork, (committed) => parentPort?.postMessage({ committed })).then(
    (done) => parentPort?.postMessage({ done }),
    (error: unknown) => parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
}
