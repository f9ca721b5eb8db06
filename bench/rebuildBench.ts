/**
 * bench:rebuild — how fast a guard rebuilds its Redis state from Kafka after Redis lost everything (issue 12),
 * against the size of the log. For each size: pre-load N committed events into one category topic, as the guard
 * writes them (bench:projector's pre-load: transactional, kes headers), then start a guard on that topic with an
 * empty Redis namespace. It finds no generation record, so it fences every slot and reads every partition from
 * offset 0 (versions, watermarks, the idempotency window) before it answers anything but 503.
 *
 *   npm run bench:rebuild -- [--events 100000,1000000] [--partitions 12] [--streams 10000] [--keep]
 *                            [--baseline <built checkout> [--baseline-max 1000000]] [--topic <kept topic>]
 *
 * Prints per size and guard: events read back, the rebuild's own time and rate (from the guard's 'guard state
 * rebuilt' log line), the seconds from the guard's start to its first ready answer (the 503 time a client sees,
 * process start included), and the machine's load average then. `--baseline` rebuilds the same log with the guard of
 * another checkout first (e.g. the commit before a change: `git worktree add`, `npm ci`, `npm run build`), so that
 * both figures come from one run; `--topic` reuses a log kept by `--keep`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { logLevel } from 'kafkajs';
import { LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { UsageError } from '../pipeline/errors.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { type Column, renderRows } from '../pipeline/output/textOutput.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { HttpLoadClient } from '../verify/load/httpLoad.js';
import { cleanUpRun, deleteRedisKeys } from './support/cleanUp.js';
import { CpuMeter } from './support/cpuMeter.js';
import { listFlag } from './support/flags.js';
import { startGuardProcess, stopGuard, waitReady } from './support/guardProcesses.js';
import { stackPids } from './support/machine.js';
import { newRunId, progress, ROOT, runMain } from './support/run.js';

interface Row {
  events: number;
  partitions: number;
  guard: string;
  eventsRead: number;
  rebuildMs: number;
  /** Fencing every slot and reading back, inside the rebuild (absent from guards older than these log fields). */
  fenceMs?: number | undefined;
  readMs?: number | undefined;
  eventsPerSecond: number;
  readyAfterMs: number;
  load: string;
  /** CPU from the guard's start to ready, in % of one core (200% = the whole 2-core machine). */
  cpu: Record<string, number>;
}

interface Options {
  partitions: number;
  streams: number;
  keep: boolean;
  profile?: string | undefined;
  topic?: string | undefined;
  baseline?: string | undefined;
  baselineMax: number;
}

/** Fills a fresh category topic with `size` committed events as the guard writes them; returns its name. */
async function preload(size: number, options: Options): Promise<string> {
  progress(`pre-loading ${size} events (bench:projector --phases preload)`);
  const started = Date.now();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'dist', 'bench', 'projectorBench.js'),
      ...['--phases', 'preload', '--events', String(size), '--partitions', String(options.partitions)],
      ...['--streams', String(options.streams), '--keep', '--json', '--quiet-wait', '0', '--tries', '1'],
    ],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  progress(`pre-loaded ${size} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return String((JSON.parse(stdout) as { run: { topic: string } }).run.topic);
}

/** One guard (from the checkout at `root`) started on `topic` with an empty Redis namespace, until it is ready. */
async function rebuildOnce(
  topic: string,
  size: number,
  guardName: string,
  root: string,
  options: Options,
): Promise<Row> {
  const topicPrefix = topic.slice(0, topic.lastIndexOf('.') + 1);
  const redisPrefix = `bench_rebuild_${newRunId()}:`;
  const config = loadConfig({ overrides: { KES_TOPIC_PREFIX: topicPrefix, KES_REDIS_PREFIX: redisPrefix } });
  const logPath = join(mkdtempSync(join(tmpdir(), 'kes-rebuild-')), 'guard.log');
  const env = { ...process.env, KES_TOPIC_PREFIX: topicPrefix, KES_REDIS_PREFIX: redisPrefix, KES_LOG_LEVEL: 'warn' };
  const stack = stackPids(ROOT).filter((p) => p.name === 'kafka' || p.name === 'redis');
  const started = Date.now();
  const guard = await startGuardProcess({ name: guardName, root, env, logPath, profileDir: options.profile });
  const guardPid = guard.child.pid ?? 0;
  const meter = new CpuMeter(() => [{ name: 'guard', pid: guardPid }, ...stack]);
  const before = meter.snapshot();
  const client = new HttpLoadClient({ url: guard.url, apiKey: LOCAL_DEV_KEY, maxSockets: 1 });
  try {
    progress(`${guardName} guard started on ${topic} with an empty Redis namespace; waiting for its rebuild`);
    await waitReady(guard, client, 60 * 60_000);
    const readyAfterMs = Date.now() - started;
    const cpu = CpuMeter.between(before, meter.snapshot());
    const line = readFileSync(logPath, 'utf8')
      .split('\n')
      .find((l) => l.includes('guard state rebuilt'));
    const fields = JSON.parse(line?.slice(line.indexOf('{')) ?? '{}') as {
      eventsApplied?: number;
      ms?: number;
      fenceMs?: number;
      readMs?: number;
    };
    const eventsRead = fields.eventsApplied ?? 0;
    const rebuildMs = fields.ms ?? Number.NaN;
    return {
      events: size,
      partitions: options.partitions,
      guard: guardName,
      eventsRead,
      rebuildMs,
      fenceMs: fields.fenceMs,
      readMs: fields.readMs,
      eventsPerSecond: Math.round(eventsRead / (rebuildMs / 1000)),
      readyAfterMs,
      cpu: { ...cpu.processes, 'everything else': cpu.others + cpu.self },
      load: loadavg()
        .map((l) => l.toFixed(1))
        .join(' '),
    };
  } finally {
    client.close();
    await stopGuard(guard, progress);
    const redis = createRedis(config);
    await deleteRedisKeys(redis, redisPrefix).catch((e: unknown) => progress(`clean-up: ${String(e)}`));
    await redis.quit();
  }
}

async function measure(size: number, options: Options): Promise<Row[]> {
  const topic = options.topic ?? (await preload(size, options));
  const rows: Row[] = [];
  try {
    if (options.baseline && size <= options.baselineMax) {
      rows.push(await rebuildOnce(topic, size, 'baseline', options.baseline, options));
    }
    rows.push(await rebuildOnce(topic, size, 'this checkout', ROOT, options));
    return rows;
  } finally {
    if (!options.keep && !options.topic) {
      // The pre-load's run: topics and keys under bench_<id>.
      const namespace = topic.split('.')[0] as string;
      const config = loadConfig({});
      const kafka = createKafka(config, `kes-bench-rebuild-${newRunId()}`, { logLevel: logLevel.NOTHING });
      const redis = createRedis(config);
      await cleanUpRun({ kafka, topicPrefix: `${namespace}.`, redis, redisPrefix: `${namespace}:` }).catch(
        (e: unknown) => progress(`clean-up: ${String(e)}`),
      );
      await redis.quit();
    }
  }
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));

const columns: Column<Row>[] = [
  { header: 'events in the log', value: (r) => r.events, align: 'right' },
  { header: 'partitions', value: (r) => r.partitions, align: 'right' },
  { header: 'guard', value: (r) => r.guard },
  { header: 'events read back', value: (r) => r.eventsRead, align: 'right' },
  { header: 'rebuild (s)', value: (r) => (r.rebuildMs / 1000).toFixed(2), align: 'right' },
  { header: 'events/s', value: (r) => r.eventsPerSecond, align: 'right' },
  { header: 'of which fencing (s)', value: (r) => seconds(r.fenceMs), align: 'right' },
  { header: 'reading back (s)', value: (r) => seconds(r.readMs), align: 'right' },
  { header: 'start to ready (s)', value: (r) => (r.readyAfterMs / 1000).toFixed(2), align: 'right' },
  {
    // What the rebuild itself costs, whatever else the machine runs: on an idle 2-core machine the rate is bounded
    // by about 2 cores / this figure.
    header: 'CPU s guard+kafka+redis',
    value: (r) =>
      ((((r.cpu.guard ?? 0) + (r.cpu.kafka ?? 0) + (r.cpu.redis ?? 0)) * r.readyAfterMs) / 100_000).toFixed(1),
    align: 'right',
  },
  {
    header: 'CPU % guard/kafka/redis/rest',
    value: (r) => ['guard', 'kafka', 'redis', 'everything else'].map((k) => r.cpu[k] ?? '-').join(' / '),
  },
  { header: 'load (1/5/15 min)', value: (r) => r.load },
];

runMain('bench:rebuild', async () => {
  const flags = new Command('bench:rebuild')
    .option('--events <list>', 'sizes of the log to rebuild from', '100000,1000000')
    .option('--partitions <n>', 'partitions of the category topic', '12')
    .option('--streams <n>', 'streams the events are spread over', '10000')
    .option('--keep', 'keep the pre-loaded topics', false)
    .option('--topic <name>', 'rebuild from this kept topic instead of pre-loading (give one size: its event count)')
    .option('--baseline <checkout>', 'also rebuild with the guard of this built checkout, in the same run, first')
    .option('--baseline-max <n>', 'largest size the baseline rebuilds', '1000000')
    .option('--json', 'print JSON instead of a table', false)
    .option('--profile <dir>', "write the guard's CPU profile (node --cpu-prof) into this directory")
    .parse(process.argv)
    .opts<{
      events: string;
      partitions: string;
      streams: string;
      keep: boolean;
      topic?: string;
      baseline?: string;
      baselineMax: string;
      json: boolean;
      profile?: string;
    }>();
  const sizes = listFlag('--events', flags.events);
  if (flags.topic && sizes.length !== 1) throw new UsageError('--topic takes one size in --events (its event count)');
  const options: Options = {
    partitions: Number(flags.partitions),
    streams: Number(flags.streams),
    keep: flags.keep,
    profile: flags.profile,
    topic: flags.topic,
    baseline: flags.baseline ? resolve(flags.baseline) : undefined,
    baselineMax: Number(flags.baselineMax),
  };
  const rows: Row[] = [];
  for (const size of sizes) {
    for (const row of await measure(size, options)) {
      rows.push(row);
      progress(`${size} events, ${row.guard}: rebuilt in ${(row.rebuildMs / 1000).toFixed(2)} s`);
    }
  }
  process.stdout.write(`${flags.json ? JSON.stringify(rows, null, 2) : renderRows(rows, columns, 'table')}\n`);
  return 0;
});
