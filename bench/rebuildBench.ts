/**
 * bench:rebuild — how fast a guard rebuilds its Redis state from Kafka after Redis lost everything (issue 12),
 * against the size of the log. For each size: pre-load N committed events into one category topic, as the guard
 * writes them (bench:projector's pre-load: transactional, kes headers), then start a guard on that topic with an
 * empty Redis namespace. It finds no generation record, so it fences every slot and reads every partition from
 * offset 0 (versions, watermarks, the idempotency window) before it answers anything but 503.
 *
 *   npm run bench:rebuild -- [--events 100000,1000000] [--partitions 12] [--streams 10000] [--keep]
 *
 * Prints per size: events read back, the rebuild's own time and rate (from the guard's 'guard state rebuilt' log
 * line), and the seconds from the guard's start to its first ready answer (the 503 time a client sees, process
 * start included).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { logLevel } from 'kafkajs';
import { LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { type Column, renderRows } from '../pipeline/output/textOutput.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { HttpLoadClient } from '../verify/load/httpLoad.js';
import { cleanUpRun, deleteRedisKeys } from './support/cleanUp.js';
import { listFlag } from './support/flags.js';
import { startGuardProcess, stopGuard, waitReady } from './support/guardProcesses.js';
import { newRunId, progress, ROOT, runMain } from './support/run.js';

interface Row {
  events: number;
  partitions: number;
  eventsRead: number;
  rebuildMs: number;
  eventsPerSecond: number;
  readyAfterMs: number;
}

async function measure(
  size: number,
  options: { partitions: number; streams: number; keep: boolean; profile?: string | undefined },
): Promise<Row> {
  progress(`pre-loading ${size} events (bench:projector --phases preload)`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'dist', 'bench', 'projectorBench.js'),
      ...['--phases', 'preload', '--events', String(size), '--partitions', String(options.partitions)],
      ...['--streams', String(options.streams), '--keep', '--json', '--quiet-wait', '0', '--tries', '1'],
    ],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  const topic = String((JSON.parse(stdout) as { run: { topic: string } }).run.topic);
  const topicPrefix = topic.slice(0, topic.lastIndexOf('.') + 1);
  const redisPrefix = `bench_rebuild_${newRunId()}:`;
  const config = loadConfig({ overrides: { KES_TOPIC_PREFIX: topicPrefix, KES_REDIS_PREFIX: redisPrefix } });
  const logPath = join(mkdtempSync(join(tmpdir(), 'kes-rebuild-')), 'guard.log');
  const env = { ...process.env, KES_TOPIC_PREFIX: topicPrefix, KES_REDIS_PREFIX: redisPrefix, KES_LOG_LEVEL: 'warn' };
  const started = Date.now();
  const guard = await startGuardProcess({ name: 'the guard', root: ROOT, env, logPath, profileDir: options.profile });
  const client = new HttpLoadClient({ url: guard.url, apiKey: LOCAL_DEV_KEY, maxSockets: 1 });
  try {
    progress(`guard started on ${topic} with an empty Redis namespace; waiting for its rebuild`);
    await waitReady(guard, client, 60 * 60_000);
    const readyAfterMs = Date.now() - started;
    const line = readFileSync(logPath, 'utf8')
      .split('\n')
      .find((l) => l.includes('guard state rebuilt'));
    const fields = JSON.parse(line?.slice(line.indexOf('{')) ?? '{}') as { eventsApplied?: number; ms?: number };
    const eventsRead = fields.eventsApplied ?? 0;
    const rebuildMs = fields.ms ?? Number.NaN;
    return {
      events: size,
      partitions: options.partitions,
      eventsRead,
      rebuildMs,
      eventsPerSecond: Math.round(eventsRead / (rebuildMs / 1000)),
      readyAfterMs,
    };
  } finally {
    client.close();
    await stopGuard(guard, progress);
    if (!options.keep) {
      // The pre-load's run (topics and keys under bench_<id>) and this guard's Redis namespace.
      const namespace = topic.split('.')[0] as string;
      const kafka = createKafka(config, `kes-bench-rebuild-${newRunId()}`, { logLevel: logLevel.NOTHING });
      const redis = createRedis(config);
      await cleanUpRun({ kafka, topicPrefix: `${namespace}.`, redis, redisPrefix })
        .then(() => deleteRedisKeys(redis, `${namespace}:`))
        .catch((e: unknown) => progress(`clean-up: ${String(e)}`));
      await redis.quit();
    }
  }
}

const columns: Column<Row>[] = [
  { header: 'events in the log', value: (r) => r.events, align: 'right' },
  { header: 'partitions', value: (r) => r.partitions, align: 'right' },
  { header: 'events read back', value: (r) => r.eventsRead, align: 'right' },
  { header: 'rebuild (s)', value: (r) => (r.rebuildMs / 1000).toFixed(2), align: 'right' },
  { header: 'events/s', value: (r) => r.eventsPerSecond, align: 'right' },
  { header: 'start to ready (s)', value: (r) => (r.readyAfterMs / 1000).toFixed(2), align: 'right' },
];

runMain('bench:rebuild', async () => {
  const flags = new Command('bench:rebuild')
    .option('--events <list>', 'sizes of the log to rebuild from', '100000,1000000')
    .option('--partitions <n>', 'partitions of the category topic', '12')
    .option('--streams <n>', 'streams the events are spread over', '10000')
    .option('--keep', 'keep the topics and Redis keys', false)
    .option('--json', 'print JSON instead of a table', false)
    .option('--profile <dir>', "write the guard's CPU profile (node --cpu-prof) into this directory")
    .parse(process.argv)
    .opts<{ events: string; partitions: string; streams: string; keep: boolean; json: boolean; profile?: string }>();
  const sizes = listFlag('--events', flags.events);
  const rows: Row[] = [];
  for (const size of sizes) {
    rows.push(
      await measure(size, {
        partitions: Number(flags.partitions),
        streams: Number(flags.streams),
        keep: flags.keep,
        profile: flags.profile,
      }),
    );
    progress(`${size} events: rebuilt in ${((rows.at(-1)?.rebuildMs ?? 0) / 1000).toFixed(2)} s`);
  }
  process.stdout.write(`${flags.json ? JSON.stringify(rows, null, 2) : renderRows(rows, columns, 'table')}\n`);
  return 0;
});
