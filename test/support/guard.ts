import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { addressesToEnv } from '../../devstack/types.js';
import { type RunningGuard, startGuard } from '../../guard/guard.js';
import { createLogger } from '../../guard/log.js';
import { type KesConfig, LOCAL_DEV_KEY, loadConfig } from '../../pipeline/config/config.js';
import { uniqueName } from './names.js';
import { stack } from './stack.js';

/**
 * A guard isolated for one test: its own Redis key prefix (which also names its transactional ids) and topic
 * prefix, on the real stack, listening on a free port.
 */
export interface TestGuardSetup {
  config: KesConfig;
  namespace: string;
  topicPrefix: string;
}

export function testGuardConfig(settings: Record<string, string | undefined> = {}): TestGuardSetup {
  const namespace = uniqueName('g');
  const topicPrefix = `${namespace}.`;
  const config = loadConfig({
    env: {},
    cwd: mkdtempSync(join(tmpdir(), 'kes-guard-')),
    overrides: {
      ...addressesToEnv(stack()),
      KES_REDIS_PREFIX: `${namespace}:`,
      KES_TOPIC_PREFIX: topicPrefix,
      KES_TOPIC_PARTITIONS: '4',
      KES_SCHEMAS_DIR: join(process.cwd(), 'schemas'),
      ...settings,
    },
  });
  return { config, namespace, topicPrefix };
}

export async function startTestGuard(
  setup: TestGuardSetup,
  options: Pick<Parameters<typeof startGuard>[1] & {}, 'modules' | 'commandHooks'> = {},
): Promise<RunningGuard> {
  const guard = await startGuard(setup.config, {
    ...options,
    port: 0,
    log: createLogger('guard', (process.env.KES_TEST_LOG as 'info') ?? 'error'),
  });
  await guard.whenReady(60_000);
  return guard;
}

export const API_KEY = LOCAL_DEV_KEY;

export async function post(
  url: string,
  stream: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` },
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${url}/streams/${encodeURIComponent(stream)}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

/** Deletes every Redis key of a namespace: Redis "lost its data" as far as that guard can tell. */
export async function wipeNamespace(redisUrl: string, namespace: string): Promise<number> {
  const redis = new Redis(redisUrl);
  let deleted = 0;
  try {
    for await (const keys of redis.scanStream({ match: `${namespace}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) deleted += await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
