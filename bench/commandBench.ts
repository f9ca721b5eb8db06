import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { type Kafka, logLevel } from 'kafkajs';
import { accountModule } from '../example/accounts/account.js';
import { CommandClient } from '../guard/client/commandClient.js';
import { GuardClient } from '../guard/client/guardClient.js';
import { partitionOf } from '../guard/protocol/partitioner.js';
import { LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { CommandConflictError } from '../pipeline/errors.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { type Column, progressPrinter, renderRows } from '../pipeline/output/textOutput.js';
import { HttpLoadClient } from '../verify/load/httpLoad.js';
import { percentile } from '../verify/load/workload.js';
import { formatNumber, positive, round } from './support/figures.js';
import { type GuardProcess, startGuardProcess, stopGuard, waitReady } from './support/guardProcesses.js';
import { machine, machinePercent, machineSeconds, stackPids, statCpuSeconds, waitQuiet } from './support/machine.js';

/**
 * `npm run bench:commands` (docs/commands-benchmark.md): what a command costs next to a raw guarded append, a hot
 * stream on one guard and on two, and the cold load of a command state whose cache entry is gone. Every comparison
 * is measured side by side in one run and reported as a ratio, because this machine is shared and noisy.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the code a command runs lives: a change there shows in the figures' `code`. */
const CODE_DIRS = ['guard', 'pipeline', 'example', 'bin'];
const CATEGORY = accountModule.category;
const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);
const progress = progressPrinter();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// flags

interface Options {
  durationMs: number;
  warmupMs: number;
  clients: number[];
  hotClients: number;
  streamsPerClient: number;
  samples: number;
  coldSizes: number[];
  filler: number[];
  json: boolean;
  keep: boolean;
  quietPercent: number;
  quietWaitMs: number;
  maxNoise: number;
  tries: number;
}

function parseFlags(argv: readonly string[]): Options {
  const program = new Command('bench:commands')
    .description('commands vs raw guarded appends, a hot stream on one and two guards, cold state loads')
    .option('--duration <s>', 'measured seconds per configuration (two halves, run A B C then C B A)', '10')
    .option('--warmup <s>', 'unmeasured seconds before each half', '2')
    .option('--clients <list>', 'closed-loop client counts of the distinct-streams phase', '1,16')
    .option('--hot-clients <n>', 'closed-loop clients all commanding one account in the hot-stream phase', '16')
    .option('--streams-per-client <n>', 'streams each client of the distinct-streams phase cycles through', '10')
    .option('--samples <n>', 'cold and warm commands per stream in the cold-load phase (the median is kept)', '5')
    .option('--cold-sizes <list>', 'events in the streams of the cold-load phase', '10,100,1000')
    .option(
      '--filler <list>',
      'then add events to the cold streams’ partition until it holds this many more, a cold load after each (0: none)',
      '20000,100000',
    )
    .option('--json', 'print one JSON object on stdout instead of tables', false)
    .option('--keep', "keep the run's topic and Redis keys (deleted by default)", false)
    .option(
      '--quiet <percent>',
      'before each measurement, wait until the idle machine uses less CPU (% of one core)',
      '40',
    )
    .option('--quiet-wait <s>', 'longest wait for a quiet machine (0: do not wait)', '120')
    .option('--max-noise <percent>', 'measure a half again when other processes took more CPU than this', '30')
    .option('--tries <n>', 'attempts at most per half (the least disturbed one is kept)', '3')
    .parse([...argv]);
  const f = program.opts<Record<string, string | boolean>>();
  const s = (k: string) => String(f[k]);
  const list = (name: string, v: string) => v.split(',').map((x) => positive(name, x.trim()));
  return {
    durationMs: positive('--duration', s('duration'), false) * 1000,
    warmupMs: s('warmup') === '0' ? 0 : positive('--warmup', s('warmup'), false) * 1000,
    clients: list('--clients', s('clients')),
    hotClients: positive('--hot-clients', s('hotClients')),
    streamsPerClient: positive('--streams-per-client', s('streamsPerClient')),
    samples: positive('--samples', s('samples')),
    coldSizes: list('--cold-sizes', s('coldSizes')),
    filler: s('filler') === '0' ? [] : list('--filler', s('filler')),
    json: f.json === true,
    keep: f.keep === true,
    quietPercent: positive('--quiet', s('quiet'), false),
    quietWaitMs: s('quietWait') === '0' ? 0 : positive('--quiet-wait', s('quietWait'), false) * 1000,
    maxNoise: positive('--max-noise', s('maxNoise'), false),
    tries: positive('--tries', s('tries')),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// figures

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

function latencyOf(values: readonly number[]): Latency {
  const sorted = Array.from(Float64Array.from(values).sort());
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

function median(values: readonly number[]): number {
  return percentile(Array.from(Float64Array.from(values).sort()), 50);
}

const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : Number.NaN);
const times = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '—');

// ---------------------------------------------------------------------------------------------------------------
// CPU per measured window: this process, the guards, the stack, the whole machine and everything else

interface CpuSnapshot {
  at: number;
  per: Map<string, number>;
  machine: { busy: number; total: number };
}

function cpuSnapshot(processes: readonly { name: string; pid: number }[]): CpuSnapshot {
  const per = new Map<string, number>();
  const own = process.cpuUsage();
  per.set('bench', (own.user + own.system) / 1e6);
  for (const { name, pid } of processes) {
    const seconds = statCpuSeconds(`/proc/${pid}/stat`);
    if (seconds !== undefined) per.set(name, (per.get(name) ?? 0) + seconds);
  }
  return { at: performance.now(), per, machine: machineSeconds() };
}

/** % of one core per process over the window (200% = both cores), `others` = the machine minus all of them. */
function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
  const wall = (b.at - a.at) / 1000;
  const out: Record<string, number> = {};
  for (const [name, end] of b.per) out[name] = round((100 * (end - (a.per.get(name) ?? end))) / wall, 0);
  const all = machinePercent(a.machine, b.machine);
  out.others = round(Math.max(0, all - Object.values(out).reduce((x, y) => x + y, 0)), 0);
  out.machine = round(all, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// guard metrics (Prometheus text)

interface CommandCounters {
  conflicts: number;
  loadsFromLog: number;
  loadsFromCache: number;
  eventsRead: number;
}

function metric(text: string, name: string, label?: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    if (label !== undefined && !line.includes(label)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

async function counters(clients: readonly HttpLoadClient[]): Promise<CommandCounters> {
  const sum: CommandCounters = { conflicts: 0, loadsFromLog: 0, loadsFromCache: 0, eventsRead: 0 };
  for (const c of clients) {
    const answer = await c.get('/metrics');
    if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
    sum.conflicts += metric(answer.body, 'kes_guard_command_conflicts_total');
    sum.loadsFromLog += metric(answer.body, 'kes_guard_command_state_loads_total', 'source="log"');
    sum.loadsFromCache += metric(answer.body, 'kes_guard_command_state_loads_total', 'source="cache"');
    sum.eventsRead += metric(answer.body, 'kes_guard_command_events_read_total');
  }
  return sum;
}

function countersBetween(a: CommandCounters, b: CommandCounters): CommandCounters {
  return {
    conflicts: b.conflicts - a.conflicts,
    loadsFromLog: b.loadsFromLog - a.loadsFromLog,
    loadsFromCache: b.loadsFromCache - a.loadsFromCache,
    eventsRead: b.eventsRead - a.eventsRead,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// closed-loop load

/** What one operation answered: ok (with the command's attempts), a 409 after the guard's retries, or an error. */
type Outcome = { kind: 'ok'; attempts: number } | { kind: '409' } | { kind: 'error'; message: string };

async function outcomeOf(op: () => Promise<{ attempts: number }>): Promise<Outcome> {
  try {
    const { attempts } = await op();
    return { kind: 'ok', attempts };
  } catch (error) {
    if (error instanceof CommandConflictError) return { kind: '409' };
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

interface Measured {
  ok: number;
  latencies: number[];
  /** Sum of `attempts - 1` over the answers: decisions the compare-and-swap refused and the guard made again. */
  decidedAgain: number;
  conflicts409: number;
  errors: number;
  errorSample: string | undefined;
  elapsedMs: number;
  guard: CommandCounters;
  /** CPU per process, averaged over the halves. */
  cpu: Record<string, number>;
  idleBefore: number[];
  attempts: number[];
  /** The guards that served the load (their CPU is the guard's CPU per operation); default: every guard. */
  guardsUsed?: string[];
}

interface Half extends Omit<Measured, 'cpu' | 'idleBefore' | 'attempts' | 'guardsUsed'> {
  cpu: Record<string, number>;
}

interface Probe {
  snapshot: () => CpuSnapshot;
  metricClients: readonly HttpLoadClient[];
}

/** `workers` closed-loop clients: each starts its next operation as soon as the previous one is answered. */
async function closedLoop(
  workers: readonly (() => Promise<Outcome>)[],
  warmupMs: number,
  durationMs: number,
  probe: Probe,
): Promise<Half> {
  let measuring = false;
  let stop = false;
  const half: Half = {
    ok: 0,
    latencies: [],
    decidedAgain: 0,
    conflicts409: 0,
    errors: 0,
    errorSample: undefined,
    elapsedMs: 0,
    guard: { conflicts: 0, loadsFromLog: 0, loadsFromCache: 0, eventsRead: 0 },
    cpu: {},
  };
  const loops = workers.map(async (op) => {
    while (!stop) {
      const started = performance.now();
      const outcome = await op();
      const latency = performance.now() - started;
      if (!measuring) continue;
      if (outcome.kind === 'ok') {
        half.ok += 1;
        half.latencies.push(latency);
        half.decidedAgain += outcome.attempts - 1;
      } else if (outcome.kind === '409') {
        half.conflicts409 += 1;
      } else {
        half.errors += 1;
        half.errorSample ??= outcome.message;
        await sleep(50); // an error answers at once: do not spin
      }
    }
  });
  await sleep(warmupMs);
  const m0 = await counters(probe.metricClients);
  const c0 = probe.snapshot();
  measuring = true;
  await sleep(durationMs);
  measuring = false;
  const c1 = probe.snapshot();
  const m1 = await counters(probe.metricClients);
  stop = true;
  await Promise.all(loops);
  half.elapsedMs = c1.at - c0.at;
  half.cpu = cpuBetween(c0, c1);
  half.guard = countersBetween(m0, m1);
  return half;
}

function merge(halves: readonly (Half & { idle: number | undefined; attempt: number })[]): Measured {
  const cpu: Record<string, number> = {};
  for (const h of halves) for (const [k, v] of Object.entries(h.cpu)) cpu[k] = (cpu[k] ?? 0) + v / halves.length;
  for (const k of Object.keys(cpu)) cpu[k] = round(cpu[k] as number, 0);
  return {
    ok: halves.reduce((s, h) => s + h.ok, 0),
    latencies: halves.flatMap((h) => h.latencies),
    decidedAgain: halves.reduce((s, h) => s + h.decidedAgain, 0),
    conflicts409: halves.reduce((s, h) => s + h.conflicts409, 0),
    errors: halves.reduce((s, h) => s + h.errors, 0),
    errorSample: halves.find((h) => h.errorSample !== undefined)?.errorSample,
    elapsedMs: halves.reduce((s, h) => s + h.elapsedMs, 0),
    guard: {
      conflicts: halves.reduce((s, h) => s + h.guard.conflicts, 0),
      loadsFromLog: halves.reduce((s, h) => s + h.guard.loadsFromLog, 0),
      loadsFromCache: halves.reduce((s, h) => s + h.guard.loadsFromCache, 0),
      eventsRead: halves.reduce((s, h) => s + h.guard.eventsRead, 0),
    },
    cpu,
    idleBefore: halves.flatMap((h) => (h.idle === undefined ? [] : [h.idle])),
    attempts: halves.map((h) => h.attempt),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Kafka admin

async function withAdmin<T>(kafka: Kafka, fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** High watermark per partition: the offsets a read from the start of the partition goes through. */
async function highWatermarks(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

// ---------------------------------------------------------------------------------------------------------------
// main

interface DistinctResult {
  clients: number;
  /** GuardClient.appendToStream (fetch) */
  raw: Measured;
  /** the same appends through node:http (HttpLoadClient, the client of bench:guard) */
  rawNodeHttp: Measured;
  command: Measured;
}

interface ColdRow {
  label: string;
  events: number;
  partition: number;
  offsetsScanned: number;
  cold: number[];
  warm: number[];
  eventsRead: number[];
  loadsFromLog: number;
}

async function main(): Promise<void> {
  const options = parseFlags(process.argv);
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const namespace = `benchcmd_${id}`;
  const redisPrefix = `${namespace}:`;
  const topicPrefix = `${namespace}.`;
  const config = loadConfig({ overrides: { KES_REDIS_PREFIX: redisPrefix, KES_TOPIC_PREFIX: topicPrefix } });
  const topic = `${topicPrefix}${CATEGORY}`;
  const runDir = join(config.KES_HOME, 'bench', `commands-${id}`);
  mkdirSync(runDir, { recursive: true });
  progress(`run ${id}: guard logs in ${runDir}; KES_REDIS_PREFIX=${redisPrefix} KES_TOPIC_PREFIX=${topicPrefix}`);

  const kafka = createKafka(config, `kes-bench-commands-${id}`, { logLevel: logLevel.NOTHING });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const stack = stackPids(ROOT).filter((s) => ['kafka', 'redis', 'registry'].includes(s.name));
  const guards: GuardProcess[] = [];
  const http: HttpLoadClient[] = [];
  const closers: (() => void)[] = [];
  const snapshot = () =>
    cpuSnapshot([
      ...guards.flatMap((g, i) => (g.child.pid === undefined ? [] : [{ name: `guard ${i}`, pid: g.child.pid }])),
      ...stack,
    ]);

  try {
    // 1. two guards of our own: free ports, our prefixes, the example modules (`kes guard`)
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KES_REDIS_PREFIX: redisPrefix,
      KES_TOPIC_PREFIX: topicPrefix,
      KES_LOG_LEVEL: process.env.KES_LOG_LEVEL ?? 'warn',
    };
    for (let i = 0; i < 2; i++) {
      guards.push(
        await startGuardProcess({ name: `guard ${i}`, root: ROOT, env, logPath: join(runDir, `guard-${i}.log`) }),
      );
    }
    for (const g of guards) http.push(new HttpLoadClient({ url: g.url, apiKey: LOCAL_DEV_KEY, maxSockets: 8 }));
    await Promise.all(guards.map((g, i) => waitReady(g, http[i] as HttpLoadClient, 120_000)));
    const urls = guards.map((g) => g.url);
    progress(`guards ready: ${guards.map((g) => `${g.url} (pid ${g.child.pid})`).join(', ')}`);
    const url0 = urls[0] as string;
    const commandsAt = (url: string) => new CommandClient({ url, apiKey: LOCAL_DEV_KEY });
    const appendsAt = (url: string) => new GuardClient({ url, apiKey: LOCAL_DEV_KEY });
    const deposit = { amount: 1, currency: 'EUR' };
    const depositEvent = { type: 'MoneyDeposited', data: { ...deposit, transferId: null } };

    const open = async (ids: readonly string[], concurrency = 16) => {
      const client = commandsAt(url0);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
          while (next < ids.length) {
            await client.send(CATEGORY, ids[next++] as string, 'open', { owner: 'bench', currency: 'EUR' });
          }
        }),
      );
    };

    // A half of a configuration: after a quiet machine, measured again when others disturbed it.
    const probe = (metricClients: readonly HttpLoadClient[]): Probe => ({ snapshot, metricClients });
    const measureHalf = async (label: string, run: () => Promise<Half>) => {
      let kept: (Half & { idle: number | undefined; attempt: number }) | undefined;
      for (let attempt = 1; attempt <= options.tries; attempt++) {
        const idle =
          options.quietWaitMs > 0
            ? (await waitQuiet(options.quietPercent, options.quietWaitMs, progress)).idleCpu
            : undefined;
        const h = { ...(await run()), idle, attempt };
        const noise = h.cpu.others ?? 0;
        progress(
          `  ${label}: ${fmt(h.ok / (h.elapsedMs / 1000), 0)} ok/s, p50 ${fmt(latencyOf(h.latencies).p50)} ms, others ${noise}%`,
        );
        if (kept === undefined || noise < (kept.cpu.others ?? 0)) kept = h;
        if (noise <= options.maxNoise) break;
        if (attempt < options.tries)
          progress(`  others took ${noise}% of a core (--max-noise ${options.maxNoise}): again`);
      }
      return kept as Half & { idle: number | undefined; attempt: number };
    };
    /**
     * Each configuration twice, for half of --duration: A B … then … B A, so drift over the run (other sessions'
     * work, the topic growing) falls on every configuration alike.
     */
    const interleaved = async (configs: readonly [string, () => Promise<Half>][]): Promise<Measured[]> => {
      const halves = configs.map(() => [] as (Half & { idle: number | undefined; attempt: number })[]);
      for (let i = 0; i < configs.length; i++) {
        const [label, run] = configs[i] as [string, () => Promise<Half>];
        halves[i]?.push(await measureHalf(`${label} (1/2)`, run));
      }
      for (let i = configs.length - 1; i >= 0; i--) {
        const [label, run] = configs[i] as [string, () => Promise<Half>];
        halves[i]?.push(await measureHalf(`${label} (2/2)`, run));
      }
      return halves.map((h) => merge(h));
    };
    const halfMs = options.durationMs / 2;

    // The category topic exists after the first command; its partitions decide where streams land.
    await open([`first-${id}`]);
    const partitions = (await highWatermarks(kafka, topic)).size;
    progress(`topic ${topic}: ${partitions} partitions`);

    // 2. raw appends vs commands, each client on streams of its own
    const results: DistinctResult[] = [];
    const load = new HttpLoadClient({ url: url0, apiKey: LOCAL_DEV_KEY, maxSockets: Math.max(...options.clients) + 8 });
    closers.push(() => load.close());
    for (const c of options.clients) {
      const streamIds = (kind: string) =>
        Array.from({ length: c }, (_, w) =>
          Array.from({ length: options.streamsPerClient }, (_, k) => `${kind}${c}-w${w}-s${k}`),
        );
      const cmdIds = streamIds('cmd');
      progress(`distinct streams, ${c} client(s): opening ${c * options.streamsPerClient} accounts for the commands`);
      await open(cmdIds.flat());
      const rawWorkers = streamIds('raw').map((ids) => {
        const client = appendsAt(url0);
        let k = 0;
        return () =>
          outcomeOf(async () => {
            await client.appendToStream(`${CATEGORY}-${ids[k++ % ids.length]}`, [depositEvent], {
              expectedVersion: 'any',
            });
            return { attempts: 1 };
          });
      });
      const nodeWorkers = streamIds('node').map((ids) => {
        let k = 0;
        return () =>
          outcomeOf(async () => {
            const stream = `${CATEGORY}-${ids[k++ % ids.length]}`;
            const a = await load.append(stream, 'any', [{ id: randomUUID(), ...depositEvent }]);
            if (a.outcome.status !== 'ok') throw new Error(`append to ${stream}: ${JSON.stringify(a.outcome)}`);
            return { attempts: 1 };
          });
      });
      const cmdWorkers = cmdIds.map((ids) => {
        const client = commandsAt(url0);
        let k = 0;
        return () => outcomeOf(() => client.send(CATEGORY, ids[k++ % ids.length] as string, 'deposit', deposit));
      });
      const p = probe(http.slice(0, 1));
      const [raw, rawNodeHttp, command] = (await interleaved([
        [`raw append (GuardClient), ${c} client(s)`, () => closedLoop(rawWorkers, options.warmupMs, halfMs, p)],
        [`raw append (node:http), ${c} client(s)`, () => closedLoop(nodeWorkers, options.warmupMs, halfMs, p)],
        [`command, ${c} client(s)`, () => closedLoop(cmdWorkers, options.warmupMs, halfMs, p)],
      ])) as [Measured, Measured, Measured];
      // guard 1 idles through this phase: only guard 0's CPU is the guard's cost per operation
      const on0 = (m: Measured): Measured => ({ ...m, guardsUsed: ['guard 0'] });
      results.push({ clients: c, raw: on0(raw), rawNodeHttp: on0(rawNodeHttp), command: on0(command) });
    }

    // 3. one hot account, every client depositing to it: one guard, then clients alternating between two
    const hotId = `hot-${id}`;
    await open([hotId]);
    const hotWorkers = (guardCount: number) =>
      Array.from({ length: options.hotClients }, (_, w) => {
        const client = commandsAt(urls[w % guardCount] as string);
        return () => outcomeOf(() => client.send(CATEGORY, hotId, 'deposit', deposit));
      });
    progress(`hot stream: ${options.hotClients} clients on ${CATEGORY}-${hotId}`);
    const [oneGuard, twoGuards] = (await interleaved([
      ['hot stream, one guard', () => closedLoop(hotWorkers(1), options.warmupMs, halfMs, probe(http))],
      ['hot stream, two guards', () => closedLoop(hotWorkers(2), options.warmupMs, halfMs, probe(http))],
    ])) as [Measured, Measured];
    const hotPartition = partitionOf(`${CATEGORY}-${hotId}`, partitions);

    // 4. cold loads: streams of 10, 100, 1,000 events in one partition, their cache entry deleted before a command
    const before = await highWatermarks(kafka, topic);
    const coldPartition = [...before.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0];
    const idsIn = (kind: string, n: number) => {
      const found: string[] = [];
      for (let i = 0; found.length < n; i++) {
        if (partitionOf(`${CATEGORY}-${kind}-${i}`, partitions) === coldPartition) found.push(`${kind}-${i}`);
      }
      return found;
    };
    const appender = appendsAt(url0);
    const cmd0 = commandsAt(url0);
    const coldStreams: { id: string; events: number }[] = [];
    for (const size of options.coldSizes) {
      const [streamId] = idsIn(`cold${size}`, 1) as [string];
      await open([streamId]);
      // deposits straight into the log (raw appends at the exact version), 100 per append
      for (let version = 0; version < size - 1; version += 100) {
        const n = Math.min(100, size - 1 - version);
        await appender.appendToStream(
          `${CATEGORY}-${streamId}`,
          Array.from({ length: n }, () => depositEvent),
          {
            expectedVersion: version,
          },
        );
      }
      await cmd0.send(CATEGORY, streamId, 'deposit', deposit); // the state is in the cache from here on
      coldStreams.push({ id: streamId, events: size });
    }
    const cacheKey = (streamId: string) =>
      `${redisPrefix}cmd:${CATEGORY}:s${accountModule.stateVersion}:${CATEGORY}-${streamId}`;
    const coldRows: ColdRow[] = [];
    const measureCold = async (label: string, streamId: string, events: number) => {
      if (options.quietWaitMs > 0) await waitQuiet(options.quietPercent, options.quietWaitMs, progress);
      const offsetsScanned = (await highWatermarks(kafka, topic)).get(coldPartition) ?? 0;
      const row: ColdRow = {
        label,
        events,
        partition: coldPartition,
        offsetsScanned,
        cold: [],
        warm: [],
        eventsRead: [],
        loadsFromLog: 0,
      };
      if ((await redis.exists(cacheKey(streamId))) !== 1) throw new Error(`no cache entry at ${cacheKey(streamId)}`);
      for (let i = 0; i < options.samples; i++) {
        await redis.del(cacheKey(streamId));
        const m0 = await counters(http.slice(0, 1));
        let t = performance.now();
        await cmd0.send(CATEGORY, streamId, 'deposit', deposit);
        row.cold.push(performance.now() - t);
        const m1 = countersBetween(m0, await counters(http.slice(0, 1)));
        row.eventsRead.push(m1.eventsRead);
        row.loadsFromLog += m1.loadsFromLog;
        t = performance.now();
        await cmd0.send(CATEGORY, streamId, 'deposit', deposit);
        row.warm.push(performance.now() - t);
      }
      coldRows.push(row);
      progress(
        `  cold ${label}: ${fmt(median(row.cold))} ms vs warm ${fmt(median(row.warm))} ms, ${fmt(offsetsScanned, 0)} offsets in partition ${coldPartition}`,
      );
    };
    progress(
      `cold loads in partition ${coldPartition} (${fmt(before.get(coldPartition), 0)} offsets before the streams)`,
    );
    for (const s of coldStreams) await measureCold(`${fmt(s.events, 0)} events`, s.id, s.events);
    let fillerAdded = 0;
    const smallest = coldStreams[0];
    const fillIds = idsIn('fill', 10);
    for (const target of options.filler) {
      if (!smallest || target <= fillerAdded) continue;
      const batches: number[] = [];
      for (let left = target - fillerAdded; left > 0; left -= 500) batches.push(Math.min(500, left));
      progress(
        `adding ${fmt(target - fillerAdded, 0)} events to partition ${coldPartition} (${fillIds.length} other streams)`,
      );
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < batches.length) {
            const b = next++;
            const n = batches[b] as number;
            await appender.appendToStream(
              `${CATEGORY}-${fillIds[b % fillIds.length]}`,
              Array.from({ length: n }, () => depositEvent),
              { expectedVersion: 'any' },
            );
            fillerAdded += n;
          }
        }),
      );
      await measureCold(
        `${fmt(smallest.events, 0)} events, +${fmt(fillerAdded, 0)} in its partition`,
        smallest.id,
        smallest.events,
      );
    }

    // 5. figures
    const m = machine(ROOT, CODE_DIRS);
    const perSecond = (x: Measured) => x.ok / (x.elapsedMs / 1000);
    /** CPU per successful operation, in µs: the processes' mean % of one core over the ops/s. */
    const usPerOp = (x: Measured, names: (n: string) => boolean) =>
      (Object.entries(x.cpu)
        .filter(([n]) => names(n))
        .reduce((sum, [, v]) => sum + v, 0) /
        100) *
      (1e6 / perSecond(x));
    const cpuPerOp = (x: Measured) => ({
      client: usPerOp(x, (n) => n === 'bench'),
      guards: usPerOp(x, (n) => (x.guardsUsed ? x.guardsUsed.includes(n) : n.startsWith('guard'))),
      redis: usPerOp(x, (n) => n === 'redis'),
      kafka: usPerOp(x, (n) => n === 'kafka'),
    });
    const settings = {
      KES_COMMAND_MAX_ATTEMPTS: config.KES_COMMAND_MAX_ATTEMPTS,
      KES_COMMAND_RETRY_BASE_MS: config.KES_COMMAND_RETRY_BASE_MS,
      KES_COMMAND_RETRY_MAX_MS: config.KES_COMMAND_RETRY_MAX_MS,
      KES_COMMAND_STATE_TTL_S: config.KES_COMMAND_STATE_TTL_S,
      KES_GUARD_PIPELINE: config.KES_GUARD_PIPELINE,
      KES_GUARD_LINGER_MS: config.KES_GUARD_LINGER_MS,
      KES_TOPIC_PARTITIONS: partitions,
      KES_REDIS_PREFIX: redisPrefix,
      KES_TOPIC_PREFIX: topicPrefix,
    };
    const measuredJson = (x: Measured) => ({
      opsPerSecond: round(perSecond(x), 0),
      latencyMs: Object.fromEntries(Object.entries(latencyOf(x.latencies)).map(([k, v]) => [k, round(v, 2)])),
      ok: x.ok,
      decidedAgain: x.decidedAgain,
      conflicts409: x.conflicts409,
      errors: x.errors,
      errorSample: x.errorSample ?? null,
      guard: x.guard,
      cpuPercent: x.cpu,
      cpuUsPerOp: Object.fromEntries(Object.entries(cpuPerOp(x)).map(([k, v]) => [k, round(v, 0)])),
      idleMachineBefore: x.idleBefore,
      attempts: x.attempts,
    });
    /** `a` against the baseline `b`: throughput, latency, and CPU per operation of the guard(s) and Redis. */
    const against = (a: Measured, b: Measured) => {
      const la = latencyOf(a.latencies);
      const lb = latencyOf(b.latencies);
      return {
        opsPerSecond: ratio(perSecond(a), perSecond(b)),
        p50: ratio(la.p50, lb.p50),
        p99: ratio(la.p99, lb.p99),
        guardUsPerOp: ratio(cpuPerOp(a).guards, cpuPerOp(b).guards),
        redisUsPerOp: ratio(cpuPerOp(a).redis, cpuPerOp(b).redis),
      };
    };
    const distinct = results.map((d) => ({
      ...d,
      overRaw: against(d.command, d.raw),
      overNodeHttp: against(d.command, d.rawNodeHttp),
    }));
    const hotRatio = against(twoGuards, oneGuard);
    const coldJson = coldRows.map((r) => ({
      stream: r.label,
      events: r.events,
      partition: r.partition,
      partitionOffsets: r.offsetsScanned,
      coldMs: {
        median: round(median(r.cold), 1),
        min: round(Math.min(...r.cold), 1),
        max: round(Math.max(...r.cold), 1),
      },
      warmMs: {
        median: round(median(r.warm), 1),
        min: round(Math.min(...r.warm), 1),
        max: round(Math.max(...r.warm), 1),
      },
      coldOverWarm: round(ratio(median(r.cold), median(r.warm)), 2),
      eventsReadPerColdLoad: median(r.eventsRead),
      loadsFromLog: r.loadsFromLog,
    }));
    const out = {
      run: {
        id,
        runDir,
        machine: m,
        settings,
        durationS: options.durationMs / 1000,
        warmupS: options.warmupMs / 1000,
        streamsPerClient: options.streamsPerClient,
        hotClients: options.hotClients,
        samples: options.samples,
      },
      distinctStreams: distinct.map((d) => ({
        clients: d.clients,
        rawAppend: measuredJson(d.raw),
        rawAppendNodeHttp: measuredJson(d.rawNodeHttp),
        command: measuredJson(d.command),
        commandOverRaw: Object.fromEntries(Object.entries(d.overRaw).map(([k, v]) => [k, round(v, 3)])),
        commandOverRawNodeHttp: Object.fromEntries(Object.entries(d.overNodeHttp).map(([k, v]) => [k, round(v, 3)])),
      })),
      hotStream: {
        stream: `${CATEGORY}-${hotId}`,
        partition: hotPartition,
        clients: options.hotClients,
        oneGuard: measuredJson(oneGuard),
        twoGuards: measuredJson(twoGuards),
        twoOverOne: Object.fromEntries(Object.entries(hotRatio).map(([k, v]) => [k, round(v, 3)])),
      },
      coldLoads: { partition: coldPartition, fillerAdded, rows: coldJson },
    };
    writeFileSync(join(runDir, 'figures.json'), `${JSON.stringify(out, null, 2)}\n`);
    progress(`figures in ${join(runDir, 'figures.json')}`);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }

    type Row = {
      what: string;
      clients: string;
      ops?: number;
      p50?: number;
      p99?: number;
      max?: number;
      again?: number;
      c409?: number;
      errors?: number;
      guardConflicts?: number;
      fromLog?: number;
      clientUs?: number;
      guardUs?: number;
      redisUs?: number;
      ratio?: boolean;
    };
    const rowOf = (what: string, clients: number, x: Measured): Row => {
      const l = latencyOf(x.latencies);
      return {
        what,
        clients: String(clients),
        ops: perSecond(x),
        p50: l.p50,
        p99: l.p99,
        max: l.max,
        again: x.decidedAgain,
        c409: x.conflicts409,
        errors: x.errors,
        guardConflicts: x.guard.conflicts,
        fromLog: x.guard.loadsFromLog,
        clientUs: cpuPerOp(x).client,
        guardUs: cpuPerOp(x).guards,
        redisUs: cpuPerOp(x).redis,
      };
    };
    const ratioRow = (what: string, clients: number, r: typeof hotRatio): Row => ({
      what,
      clients: String(clients),
      ops: r.opsPerSecond,
      p50: r.p50,
      p99: r.p99,
      guardUs: r.guardUsPerOp,
      redisUs: r.redisUsPerOp,
      ratio: true,
    });
    const cell = (r: Row, n: number | undefined, digits = 1) => (r.ratio ? times(n ?? Number.NaN) : fmt(n, digits));
    const count = (r: Row, n: number | undefined) => (r.ratio || n === undefined ? '' : fmt(n, 0));
    const common: Column<Row>[] = [
      { header: 'what', value: (r) => r.what },
      { header: 'clients', value: (r) => r.clients, align: 'right' },
      { header: 'ops/s', value: (r) => cell(r, r.ops, 0), align: 'right' },
      { header: 'p50 ms', value: (r) => cell(r, r.p50), align: 'right' },
      { header: 'p99 ms', value: (r) => cell(r, r.p99), align: 'right' },
      { header: 'max ms', value: (r) => (r.ratio ? '' : fmt(r.max)), align: 'right' },
    ];
    const perOp: Column<Row>[] = [
      { header: 'client CPU µs/op', value: (r) => (r.ratio ? '' : fmt(r.clientUs, 0)), align: 'right' },
      { header: 'guard CPU µs/op', value: (r) => cell(r, r.guardUs, 0), align: 'right' },
      { header: 'Redis CPU µs/op', value: (r) => cell(r, r.redisUs, 0), align: 'right' },
    ];
    const distinctRows = distinct.flatMap((d) => [
      rowOf('raw append, GuardClient (baseline)', d.clients, d.raw),
      rowOf('raw append, node:http client', d.clients, d.rawNodeHttp),
      rowOf('command', d.clients, d.command),
      ratioRow('command / raw append (GuardClient)', d.clients, d.overRaw),
      ratioRow('command / raw append (node:http)', d.clients, d.overNodeHttp),
    ]);
    const hotRows = [
      rowOf('one guard (baseline)', options.hotClients, oneGuard),
      rowOf('two guards, clients alternate', options.hotClients, twoGuards),
      ratioRow('two guards / one guard', options.hotClients, hotRatio),
    ];
    type Cold = (typeof coldJson)[number];
    const cpuRows = [
      ...distinct.flatMap((d) => [
        { phase: `raw append (GuardClient), ${d.clients} client(s)`, x: d.raw },
        { phase: `raw append (node:http), ${d.clients} client(s)`, x: d.rawNodeHttp },
        { phase: `command, ${d.clients} client(s)`, x: d.command },
      ]),
      { phase: 'hot stream, one guard', x: oneGuard },
      { phase: 'hot stream, two guards', x: twoGuards },
    ];
    const cpuNames = [...new Set(cpuRows.flatMap((r) => Object.keys(r.x.cpu)))];
    const lines = [
      `kes commands benchmark ${id} — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, ${m.date}, code ${m.code}`,
      `guards started by the bench (kes guard, example modules) on Kafka, Redis and the registry of the local stack; ` +
        `${options.durationMs / 1000} s measured per configuration in two halves, run A B (C) then (C) B A, ${options.warmupMs / 1000} s warm-up before each half`,
      `settings: ${Object.entries(settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      '',
      `1. distinct streams: each client cycles through ${options.streamsPerClient} streams of its own, one event per operation ` +
        '(raw: MoneyDeposited with expectedVersion any, through GuardClient.appendToStream (fetch) and through node:http (HttpLoadClient); ' +
        'command: CommandClient.send account deposit on an open account (node:http)), guard 0',
      renderRows(
        distinctRows,
        [
          ...common,
          { header: 'decided again', value: (r) => count(r, r.again), align: 'right' },
          { header: 'errors', value: (r) => count(r, r.errors), align: 'right' },
          ...perOp,
        ],
        'table',
      ),
      'CPU µs/op = CPU over the window / successful operations: client = this process (the clients), guard = guard 0 ' +
        '(guard 1 idles), Redis = the stack’s Redis (server-wide); ratio rows divide the command’s figure by that raw append’s',
      '',
      `2. hot stream: ${options.hotClients} clients all depositing to ${CATEGORY}-${hotId} (partition ${hotPartition}); with two guards client i sends to guard i mod 2`,
      renderRows(
        hotRows,
        [
          ...common,
          { header: 'decided again', value: (r) => count(r, r.again), align: 'right' },
          { header: '409s', value: (r) => count(r, r.c409), align: 'right' },
          { header: 'errors', value: (r) => count(r, r.errors), align: 'right' },
          { header: 'states read from Kafka', value: (r) => count(r, r.fromLog), align: 'right' },
          ...perOp,
        ],
        'table',
      ),
      'decided again = sum of (attempts − 1) over the answers: decisions a compare-and-swap refused, reloaded and decided again; ' +
        '409 = retries spent (KES_COMMAND_MAX_ATTEMPTS); states read from Kafka = command states folded from the log, not the cache; ' +
        'guard CPU = both guards',
      '',
      `3. cold loads: the stream's cache entry deleted before each cold command (median of ${options.samples}); warm = the next command on the same stream`,
      renderRows(
        coldJson,
        [
          { header: 'stream', value: (r: Cold) => r.stream },
          { header: 'partition offsets scanned', value: (r: Cold) => fmt(r.partitionOffsets, 0), align: 'right' },
          {
            header: 'cold ms (min–max)',
            value: (r: Cold) => `${fmt(r.coldMs.median)} (${fmt(r.coldMs.min)}–${fmt(r.coldMs.max)})`,
            align: 'right',
          },
          { header: 'warm ms', value: (r: Cold) => fmt(r.warmMs.median), align: 'right' },
          { header: 'cold − warm ms', value: (r: Cold) => fmt(r.coldMs.median - r.warmMs.median), align: 'right' },
          { header: 'cold / warm', value: (r: Cold) => times(r.coldOverWarm), align: 'right' },
          { header: 'events folded', value: (r: Cold) => r.eventsReadPerColdLoad, align: 'right' },
        ],
        'table',
      ),
      `all in partition ${coldPartition}; a missing entry is folded from the partition's first offset to its high watermark: Kafka has no per-stream index, ` +
        "so a cold load reads the whole partition since the stream was cached (here: since offset 0), whatever the stream's own length",
      '',
      renderRows(
        cpuRows,
        [
          { header: 'CPU % of one core', value: (r) => r.phase },
          ...cpuNames.map((n) => ({
            header: n,
            value: (r: { x: Measured }) => r.x.cpu[n] ?? '—',
            align: 'right' as const,
          })),
          { header: 'idle before', value: (r) => r.x.idleBefore.join(', ') || '—', align: 'right' },
          { header: 'attempts', value: (r) => r.x.attempts.join(', '), align: 'right' },
        ],
        'table',
      ),
    ];
    const errors = [...distinct.flatMap((d) => [d.raw, d.rawNodeHttp, d.command]), oneGuard, twoGuards].filter(
      (x) => x.errorSample,
    );
    for (const x of errors) lines.push(`an error answered: ${x.errorSample}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const c of http) c.close();
    for (const close of closers) close();
    await Promise.all(guards.map((g) => stopGuard(g, progress).catch(() => {})));
    if (!options.keep) {
      await cleanUp(kafka, redis, topicPrefix, redisPrefix).catch((error: unknown) =>
        progress(`clean-up incomplete: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    redis.disconnect();
  }
}

/** Deletes the run's topics and Redis keys. */
async function cleanUp(kafka: Kafka, redis: Redis, topicPrefix: string, redisPrefix: string): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
  });
  for await (const keys of redis.scanStream({ match: `${redisPrefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  }
  progress(`deleted the run's topics and Redis keys (--keep keeps them)`);
}

main().then(
  () => {
    // kafkajs and fetch's keep-alive sockets can hold the process for a while; the figures are out.
    setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  },
  (error: unknown) => {
    process.stderr.write(
      `bench:commands: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 500).unref();
  },
);
