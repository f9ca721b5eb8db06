import { join } from 'node:path';
import { type GuardProcess, startGuardProcess, stopGuard, waitReady } from '../../bench/support/guardProcesses.js';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';
import { HttpLoadClient } from '../../verify/load/httpLoad.js';

/**
 * The run's one guard: `kes guard` from dist/ in a process of its own, on the run's Redis and topic prefixes so that
 * it meets nothing of anyone else's on the shared stack. Answers once it is ready.
 */
export async function startRunGuard(args: {
  root: string;
  dir: string;
  redisPrefix: string;
  topicPrefix: string;
}): Promise<GuardProcess> {
  const guard = await startGuardProcess({
    name: 'the guard',
    root: args.root,
    env: {
      ...process.env,
      KES_REDIS_PREFIX: args.redisPrefix,
      KES_TOPIC_PREFIX: args.topicPrefix,
      KES_LOG_LEVEL: process.env.KES_LOG_LEVEL ?? 'warn',
    },
    logPath: join(args.dir, 'guard.log'),
  });
  const probe = new HttpLoadClient({ url: guard.url, apiKey: LOCAL_DEV_KEY, maxSockets: 2 });
  try {
    await waitReady(guard, probe, 120_000);
  } catch (error) {
    await stopGuard(guard, () => {}).catch(() => {});
    throw error;
  } finally {
    probe.close();
  }
  return guard;
}
