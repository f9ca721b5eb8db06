import { logLevel } from 'kafkajs';
import { CATEGORY, EVENT_TYPE, eventData } from '../../bench/guard/load.js';
import { cleanUpRun } from '../../bench/support/cleanUp.js';
import { type Accounted, CpuMeter } from '../../bench/support/cpuMeter.js';
import { formatNumber } from '../../bench/support/figures.js';
import { type GuardProcess, stopGuard } from '../../bench/support/guardProcesses.js';
import { ensureTopic, partitionCount } from '../../bench/support/kafkaAdmin.js';
import { stackPids } from '../../bench/support/machine.js';
import { GuardClient } from '../../guard/client/guardClient.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../../pipeline/redis/redisClient.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { uniqueName } from '../../verify/processes/names.js';
import type { LabContext, LabResult } from '../core/experiment.js';
import { PostgresMessageStore } from '../postgres/messageStore.js';
import { reachablePostgresUrl } from '../postgres/postgresUrl.js';
import { durabilityOf } from './durability.js';
import { readDurabilityFacts } from './durabilityFacts.js';
import { startRunGuard } from './guardSession.js';
import { type PathId, parseWriteCostOptions } from './options.js';
import { MAX_POSTGRES_POOL, type Rig, WRITE_PATHS } from './paths.js';
import { CLIENT, cpuPerAppendUs } from './point.js';
import { postgresProcesses } from './postgresProcesses.js';
import { pointsTable, type WritePoint, writeCostCharts, writeCostReading } from './report.js';

const GUARD_PATHS: readonly PathId[] = ['guard-single', 'guard-batched', 'guard-atomic'];
const RAW_CATEGORY = 'rawaccount';
const fmt = (x: number, digits = 0) => formatNumber(x, digits);

/** The host, port and database of a Postgres URL: what the settings show (never a password). */
function postgresWhere(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}

export async function runWriteCost(ctx: LabContext): Promise<LabResult> {
  const options = parseWriteCostOptions(ctx.option);
  const { config } = ctx;
  const paths = WRITE_PATHS.filter((p) => options.paths.includes(p.id));
  const id = uniqueName('writecost');
  const redisPrefix = `lab_${id}:`;
  const topicPrefix = `lab_${id}.`;
  const guardTopic = `${topicPrefix}${CATEGORY}`;
  const rawTopic = `${topicPrefix}${RAW_CATEGORY}`;
  const postgresSchema = `lab_${id}`;
  const usesGuard = options.paths.some((p) => GUARD_PATHS.includes(p));
  const usesPostgres = options.paths.includes('postgres');
  // Fail before the minutes of the Kafka paths when the Postgres is missing.
  const postgresUrl = usesPostgres ? await reachablePostgresUrl(config) : undefined;

  const kafka = createKafka(config, `kes-lab-${id}`, { logLevel: logLevel.NOTHING });
  const redis = createRedis(config, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // a failing command says what went wrong
  let guard: GuardProcess | undefined;
  let postgres: PostgresMessageStore | undefined;
  try {
    ctx.progress.step('setting up: guard, topics, Postgres schema', 0, 1);
    const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
    let partitions = config.KES_TOPIC_PARTITIONS;
    if (usesGuard) {
      guard = await startRunGuard({ root: ctx.root, dir: ctx.dir, redisPrefix, topicPrefix });
      // the category topic, created by a first append
      const first = new GuardClient({ url: guard.url, apiKey: LOCAL_DEV_KEY, coalesce: false });
      await first.appendToStream(`${CATEGORY}-init`, [{ type: EVENT_TYPE, data: eventData(0) }], {
        expectedVersion: 'no_stream',
      });
      partitions = await partitionCount(kafka, guardTopic);
      ctx.progress.note(
        `guard ready at ${guard.url} (pid ${guard.child.pid}); topic ${guardTopic}, ${partitions} partitions`,
      );
    }
    await ensureTopic(kafka, rawTopic, partitions, config.KES_TOPIC_REPLICATION);
    let accountPostgres: () => Accounted[] = () => [];
    if (postgresUrl !== undefined) {
      postgres = await PostgresMessageStore.open(postgresUrl, { schema: postgresSchema, poolSize: 1 });
      const found = await postgresProcesses(postgres);
      accountPostgres = found.processes;
      ctx.progress.note(found.note);
    }
    const stack = stackPids(ctx.root).filter((s) => s.name === 'kafka' || s.name === 'redis');
    const guardPid = guard?.child.pid;
    const cpu = new CpuMeter(() => [
      ...(guardPid === undefined ? [] : [{ name: 'guard', pid: guardPid }]),
      ...stack,
      ...accountPostgres(),
    ]);
    const rig: Rig = {
      runId: id,
      category: CATEGORY,
      guardUrl: guard?.url ?? '',
      kafka,
      catalog,
      rawTopic,
      partitions,
      postgresUrl,
      postgresSchema,
      cpu,
      atomicSize: options.atomicSize,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      note: ctx.progress.note,
    };

    // Writer counts outside, paths inside: a machine that gets busier during the run disturbs every path alike.
    const points: WritePoint[] = [];
    const total = options.writers.length * paths.length;
    for (const writers of options.writers) {
      for (const path of paths) {
        ctx.progress.step(`${path.label}, ${writers} writer(s)`, points.length, total);
        const figures = await path.measure(rig, writers);
        const point = { path: path.id, label: path.label, writers, figures, processes: path.processes };
        points.push(point);
        ctx.progress.note(
          `${path.label} × ${writers}: ${fmt(figures.appendsPerSecond)} appends/s, p50 ${fmt(figures.latency.p50, 2)} ms, ` +
            `p99 ${fmt(figures.latency.p99, 2)} ms, ${fmt(cpuPerAppendUs(figures.cpu, path.processes, figures.appendsPerSecond))} µs CPU/append` +
            (figures.errors > 0 ? `, ${figures.errors} errors` : ''),
        );
      }
    }
    ctx.progress.step('done', total, total);

    const facts = await readDurabilityFacts({ kafka, topic: usesGuard ? guardTopic : rawTopic, redis, postgres });
    const durability = new Map(paths.map((p) => [p.id, durabilityOf(p.id, facts)] as const));
    return {
      settings: {
        writers: options.writers.join(','),
        seconds: options.durationMs / 1000,
        warmupSeconds: options.warmupMs / 1000,
        atomicSize: options.atomicSize,
        paths: options.paths.join(','),
        postgresPool: `min(writers, ${MAX_POSTGRES_POOL})`,
        ...(postgresUrl === undefined ? {} : { postgres: postgresWhere(postgresUrl) }),
        rawKafka: 'transactional producer per writer, one single-record transaction per append',
        coalescing: 'linger 1 ms, at most 256 appends per request',
        topicPartitions: partitions,
        topicReplication: facts.kafka.replication,
        KES_GUARD_PIPELINE: config.KES_GUARD_PIPELINE,
        KES_GUARD_LINGER_MS: config.KES_GUARD_LINGER_MS,
        KES_GUARD_MAX_BATCH_EVENTS: config.KES_GUARD_MAX_BATCH_EVENTS,
      },
      tables: [pointsTable(points, durability)],
      charts: writeCostCharts(points),
      reading: writeCostReading(points, durability, facts.kafka.replication),
      notes: [
        ...paths.map((p) => `${p.label}: ${p.how}. Durability: ${durability.get(p.id)}.`),
        `Writers write to streams of their own (no contention) and track their versions; a failed call is counted, not ` +
          `retried, and its writer moves to new streams.`,
        `CPU per append: the CPU of the processes doing the work over the measured window (from /proc) divided by the ` +
          `appends written: the lab process ("${CLIENT}", the writers), plus the guard, Redis and Kafka for the guard ` +
          `paths, Kafka for raw Kafka, the Postgres server (postmaster and backends) for Postgres. The lab process is ` +
          `shared by the writers of every path, so its share includes the client library's work. Kafka, Redis and ` +
          `Postgres are the shared stack's: their CPU includes whatever else used them meanwhile (noisy on a busy machine).`,
      ],
    };
  } finally {
    if (guard) await stopGuard(guard, ctx.progress.note).catch(() => {});
    await cleanUpRun({
      kafka,
      topicPrefix,
      redis,
      redisPrefix,
      more: async () => {
        if (!postgres) return [];
        const store = postgres;
        return store
          .drop()
          .then(() => [])
          .catch((e: unknown) => [`postgres schema ${postgresSchema}: ${String(e)}`])
          .finally(() => store.close().catch(() => {}));
      },
    }).catch((e: unknown) => ctx.progress.note(`clean-up: ${e instanceof Error ? e.message : String(e)}`));
    redis.disconnect();
  }
}
