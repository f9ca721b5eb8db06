import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { LOCAL_DEV_KEY, loadConfig } from '../pipeline/config/config.js';
import { runWorkload } from '../verify/load/workload.js';
import { freePort } from '../verify/processes/freePort.js';
import { GuardProcess } from '../verify/processes/guardProcess.js';
import { PrivateRedis } from '../verify/processes/privateRedis.js';
import { newRunId, progress, ROOT, runMain } from './support/run.js';

/**
 * How much of one Redis core the guard spends per event (issue 16: how far one Redis master carries, and so when
 * Redis Cluster would be needed). A guard writes through a Redis of this run's own, so that nothing else counts
 * in its CPU; what is measured is CPU time (utime + stime of the Redis process), which the other processes
 * sharing the machine change far less than they change wall-clock rates. Per phase (client count): events
 * written, Redis CPU µs per event, scripts per event, and `INFO commandstats` split into the scripts (whose keys
 * are per partition, plus the generation check) and everything else (leases, state checks, scans).
 *
 *   npm run bench:redis-cost -- [--seconds 15] [--clients 16,256] [--events 1]
 */
interface Flags {
  seconds: number;
  clients: number[];
  events: number;
}

function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { seconds: 15, clients: [16, 256], events: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value = ''] = [argv[i], argv[i + 1]];
    if (name === '--seconds') flags.seconds = Number(value);
    else if (name === '--clients') flags.clients = value.split(',').map(Number);
    else if (name === '--events') flags.events = Number(value);
    else throw new Error(`bench:redis-cost: unknown flag ${name} (--seconds, --clients, --events)`);
  }
  return flags;
}

/** CPU seconds the process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function commandStats(info: string): Map<string, { calls: number; usec: number }> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) {
    stats.set(m[1] ?? '', { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

runMain('bench:redis-cost', async () => {
  const flags = parseFlags(process.argv.slice(2));
  const config = loadConfig();
  const redis = new PrivateRedis();
  await redis.start({ aof: true });
  const admin = new Redis(redis.url);
  const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
  const id = newRunId();
  const guard = new GuardProcess('guard', await freePort(), {
    KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL,
    REDIS_URL: redis.url,
    KES_REDIS_PREFIX: `rc_${id}:`,
    KES_TOPIC_PREFIX: `rc_${id}.`,
    KES_SCHEMAS_DIR: join(ROOT, 'schemas'),
  });
  try {
    await guard.start();
    progress(`guard ${guard.url}, private Redis ${redis.url} (pid ${pid})`);
    const rows: string[] = [];
    for (const clients of flags.clients) {
      await admin.config('RESETSTAT');
      const cpuBefore = cpuSeconds(pid);
      const stats = await runWorkload({
        urls: [guard.url],
        apiKey: LOCAL_DEV_KEY,
        category: 'account',
        streams: 10_000,
        concurrency: clients,
        maxEventsPerAppend: flags.events,
        anyShare: 1,
        durationMs: flags.seconds * 1000,
      });
      const cpuUs = (cpuSeconds(pid) - cpuBefore) * 1e6;
      const cmd = commandStats(await admin.info('commandstats'));
      // commandstats counts the commands a script runs as well as the EVALSHA itself (Redis 7): the EVALSHA time
      // includes theirs. INFO runs once per deciding script (the run-id check); GET once or twice (gen, rebuild).
      const scripts = ['evalsha', 'eval'].reduce(
        (sum, n) => {
          const s = cmd.get(n);
          return { calls: sum.calls + (s?.calls ?? 0), usec: sum.usec + (s?.usec ?? 0) };
        },
        { calls: 0, usec: 0 },
      );
      const events = stats.events;
      const perEvent = cpuUs / Math.max(1, events);
      rows.push(
        [
          `clients ${clients}`,
          `${events} events in ${(stats.elapsedMs / 1000).toFixed(1)} s (${Math.round(events / (stats.elapsedMs / 1000))}/s)`,
          `Redis CPU ${(cpuUs / 1e6).toFixed(2)} s = ${perEvent.toFixed(1)} µs/event (one core: ${Math.round(1e6 / perEvent)} events/s)`,
          `scripts ${scripts.calls} (${(scripts.calls / Math.max(1, events)).toFixed(2)}/event, ${(scripts.usec / Math.max(1, scripts.calls)).toFixed(1)} µs each, ${((100 * scripts.usec) / Math.max(1, cpuUs)).toFixed(0)}% of Redis CPU)`,
          `commands, those inside scripts included: ${[...cmd.entries()]
            .filter(([n]) => n !== 'evalsha' && n !== 'eval' && n !== 'config|resetstat')
            .map(([n, s]) => `${n} ${s.calls}`)
            .join(', ')}`,
        ].join('; '),
      );
      progress(rows.at(-1) ?? '');
    }
    process.stdout.write(`${rows.join('\n')}\n`);
    return 0;
  } finally {
    admin.disconnect();
    await guard.stop().catch(() => {});
    await redis.stop();
  }
});
