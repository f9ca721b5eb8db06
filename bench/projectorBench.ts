/**
 * `npm run bench:projector` (docs/projectors.md, "Speed"): what one projector process does with a backlog (raw
 * consume + decode against the projector into ClickHouse, over one pre-loaded topic), and how fresh the read model
 * stays under guarded load. Phases: preload, raw, clickhouse, freshness.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import type { ClickHouseEngine } from '../pipeline/clickhouse/engine.js';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import { loadConfig } from '../pipeline/config/config.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { assertReadCommittedPatched } from '../pipeline/kafka/readCommittedPatch.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { quote } from '../projectors/readModels/projection.js';
import { clickhousePhase, rawPhase } from './projector/consumePhases.js';
import { freshnessPhase } from './projector/freshness.js';
import { parseFlags } from './projector/options.js';
import { preloadPhase } from './projector/preload.js';
import { Profiler } from './projector/profiler.js';
import type { OpenedEngine, ProjectorRun } from './projector/projectorRun.js';
import { printReport } from './projector/report.js';
import { cleanUpRun } from './support/cleanUp.js';
import { type Accounted, CpuMeter } from './support/cpuMeter.js';
import { machine, stackPids } from './support/machine.js';
import { choosePhases, type Phase, runPhases } from './support/phases.js';
import { leastDisturbed } from './support/quiet.js';
import { errorText, newRunId, progress, ROOT, runMain } from './support/run.js';

/** Where the code a projector runs lives: a change there shows in the figures' `code`. */
const CODE_DIRS = ['projectors', 'pipeline', 'bench'];

const phases: Phase<ProjectorRun>[] = [
  { name: 'preload', run: preloadPhase },
  { name: 'raw', run: rawPhase },
  { name: 'clickhouse', run: clickhousePhase },
  { name: 'freshness', run: freshnessPhase },
];

async function main(): Promise<undefined> {
  const options = parseFlags(process.argv);
  const chosen = choosePhases(phases, options.phases, options.skipped);
  const id = newRunId();
  const namespace = `bench_${id}`;
  const category = `account_${createHash('sha1').update(id).digest('hex').slice(0, 6)}`;
  const base = loadConfig();
  const runDir = join(base.KES_HOME, 'bench', `projector-${id}`);
  mkdirSync(runDir, { recursive: true });
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
  const accounted: Accounted[] = [];
  const redis = createRedis(config, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  let opened: OpenedEngine | undefined;
  let opening: Promise<OpenedEngine> | undefined;
  const openOnce = async (): Promise<OpenedEngine> => {
    const engine: ClickHouseEngine = await openEngine(config, { progress: (line) => progress(`  ${line}`) });
    const where = (engine.kind === 'server' ? config.CLICKHOUSE_URL : undefined) ?? config.CLICKHOUSE_EMBEDDED_PATH;
    opened = { engine, version: await engine.version(), where };
    return opened;
  };
  const run: ProjectorRun = {
    id,
    namespace,
    category,
    runDir,
    options,
    config,
    freshConfig: configFor('fresh'),
    topic,
    kafka,
    cpu: new CpuMeter(() => [...stack, ...accounted]),
    accounted,
    profiler: options.profile ? new Profiler() : undefined,
    engine: () => {
      opening ??= openOnce();
      return opening;
    },
    databases: [],
    groups: [],
    closers: [],
    measure: async (label, once) => {
      const kept = await leastDisturbed(options, label, once, (r) => r.cpu.others);
      return Object.assign(kept.result, { attempts: kept.attempt });
    },
  };

  try {
    assertReadCommittedPatched();
    await runPhases(chosen, run);
    printReport(run, machine(ROOT, CODE_DIRS), opened);
  } finally {
    run.profiler?.close();
    for (const close of run.closers.reverse()) await close();
    if (!options.keep) {
      await cleanUpRun({
        kafka,
        topicPrefix: `${namespace}.`,
        redis,
        redisPrefix: `${namespace}:`,
        groups: run.groups,
        more: async () => {
          const problems: string[] = [];
          for (const db of run.databases) {
            await opened?.engine
              .command(`DROP DATABASE IF EXISTS ${quote(db)}`)
              .catch((e: unknown) => problems.push(errorText(e)));
          }
          return problems;
        },
      }).then(
        () => progress(`deleted the run's topics, consumer groups, Redis keys and databases (--keep keeps them)`),
        (error: unknown) => progress(`clean-up incomplete: ${errorText(error)}`),
      );
    }
    await opened?.engine.close().catch(() => {});
    if (!options.keep && privateEngine) rmSync(join(runDir, 'chdb'), { recursive: true, force: true });
    redis.disconnect();
  }
  return undefined;
}

// kafkajs and the HTTP agents can keep timers alive for a while; the figures are out.
runMain('bench:projector', main, 500);
