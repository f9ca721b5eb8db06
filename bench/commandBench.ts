/**
 * `npm run bench:commands` (docs/commands-benchmark.md): what a command costs next to a raw guarded append, a hot
 * stream on one guard and on two, and the cold load of a command state whose cache entry is gone. Every comparison
 * is measured side by side in one run and reported as a ratio, because this machine is shared and noisy.
 * Phases: distinct-streams, hot-stream, cold-loads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { accountModule } from '../example/accounts/account.js';
import { BANK_MODULES_FILE } from '../example/modules.js';
import { CommandClient } from '../guard/client/commandClient.js';
import { GuardClient } from '../guard/client/guardClient.js';
import { LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { HttpLoadClient } from '../verify/load/httpLoad.js';
import { coldLoadsPhase } from './commands/coldLoads.js';
import type { CommandRun } from './commands/commandRun.js';
import { distinctStreamsPhase } from './commands/distinctStreams.js';
import { hotStreamPhase } from './commands/hotStream.js';
import { parseFlags } from './commands/options.js';
import { printReport } from './commands/report.js';
import { cleanUpRun } from './support/cleanUp.js';
import { CpuMeter } from './support/cpuMeter.js';
import { type GuardProcess, startGuardProcess, stopGuard, waitReady } from './support/guardProcesses.js';
import { endOffsets } from './support/kafkaAdmin.js';
import { machine, stackPids } from './support/machine.js';
import { choosePhases, type Phase, runPhases } from './support/phases.js';
import { errorText, newRunId, progress, ROOT, runMain } from './support/run.js';

/** Where the code a command runs lives: a change there shows in the figures' `code`. */
const CODE_DIRS = ['guard', 'pipeline', 'example', 'bin'];
const CATEGORY = accountModule.category;

const phases: Phase<CommandRun>[] = [
  { name: 'distinct-streams', run: distinctStreamsPhase },
  { name: 'hot-stream', run: hotStreamPhase },
  { name: 'cold-loads', run: coldLoadsPhase },
];

async function main(): Promise<undefined> {
  const options = parseFlags(process.argv);
  const chosen = choosePhases(phases, options.phases);
  const id = newRunId();
  const namespace = `benchcmd_${id}`;
  const redisPrefix = `${namespace}:`;
  const topicPrefix = `${namespace}.`;
  const config = loadConfig({ overrides: { KES_REDIS_PREFIX: redisPrefix, KES_TOPIC_PREFIX: topicPrefix } });
  const topic = `${topicPrefix}${CATEGORY}`;
  const runDir = join(config.KES_HOME, 'bench', `commands-${id}`);
  mkdirSync(runDir, { recursive: true });
  progress(`run ${id}: guard logs in ${runDir}; KES_REDIS_PREFIX=${redisPrefix} KES_TOPIC_PREFIX=${topicPrefix}`);

  const kafka = createKafka(config, `kes-bench-commands-${id}`, { logLevel: logLevel.NOTHING });
  const redis = createRedis(config, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const stack = stackPids(ROOT).filter((s) => ['kafka', 'redis', 'registry'].includes(s.name));
  const guards: GuardProcess[] = [];
  const http: HttpLoadClient[] = [];
  const closers: (() => void)[] = [];
  const cpu = new CpuMeter(() => [
    ...guards.flatMap((g, i) => (g.child.pid === undefined ? [] : [{ name: `guard ${i}`, pid: g.child.pid }])),
    ...stack,
  ]);

  try {
    // two guards of our own: free ports, our prefixes, the example modules (`kes guard`)
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KES_REDIS_PREFIX: redisPrefix,
      KES_TOPIC_PREFIX: topicPrefix,
      KES_LOG_LEVEL: process.env.KES_LOG_LEVEL ?? 'warn',
    };
    for (let i = 0; i < 2; i++) {
      guards.push(
        await startGuardProcess({
          name: `guard ${i}`,
          root: ROOT,
          env,
          logPath: join(runDir, `guard-${i}.log`),
          modulesFile: BANK_MODULES_FILE,
        }),
      );
    }
    for (const g of guards) http.push(new HttpLoadClient({ url: g.url, apiKey: LOCAL_DEV_KEY, maxSockets: 8 }));
    await Promise.all(guards.map((g, i) => waitReady(g, http[i] as HttpLoadClient, 120_000)));
    const urls = guards.map((g) => g.url);
    progress(`guards ready: ${guards.map((g) => `${g.url} (pid ${g.child.pid})`).join(', ')}`);
    const commandsAt = (url: string) => new CommandClient({ url, apiKey: LOCAL_DEV_KEY });
    const open = async (ids: readonly string[], concurrency = 16) => {
      const client = commandsAt(urls[0] as string);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
          while (next < ids.length) {
            await client.send(CATEGORY, ids[next++] as string, 'open', { owner: 'bench', currency: 'EUR' });
          }
        }),
      );
    };

    // The category topic exists after the first command; its partitions decide where streams land.
    await open([`first-${id}`]);
    const partitions = (await endOffsets(kafka, topic)).size;
    progress(`topic ${topic}: ${partitions} partitions`);

    const run: CommandRun = {
      id,
      options,
      kafka,
      redis,
      redisPrefix,
      topic,
      partitions,
      urls,
      http,
      cpu,
      closers,
      commandsAt,
      appendsAt: (url) => new GuardClient({ url, apiKey: LOCAL_DEV_KEY }),
      open,
      distinct: [],
    };
    await runPhases(chosen, run);

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
    printReport(run, { runDir, machine: machine(ROOT, CODE_DIRS), settings }, (file, text) =>
      writeFileSync(file, text),
    );
  } finally {
    for (const c of http) c.close();
    for (const close of closers) close();
    await Promise.all(guards.map((g) => stopGuard(g, progress).catch(() => {})));
    if (!options.keep) {
      await cleanUpRun({ kafka, topicPrefix, redis, redisPrefix }).then(
        () => progress(`deleted the run's topics and Redis keys (--keep keeps them)`),
        (error: unknown) => progress(`clean-up incomplete: ${errorText(error)}`),
      );
    }
    redis.disconnect();
  }
  return undefined;
}

// kafkajs and fetch's keep-alive sockets can hold the process for a while; the figures are out.
runMain('bench:commands', main, 500);
