import type { KesConfig } from '../../pipeline/config/config.js';
import { freePorts } from '../../verify/processes/freePort.js';
import { GuardProcess } from '../../verify/processes/guardProcess.js';
import { uniqueName } from '../../verify/processes/names.js';

/**
 * Guard processes of an experiment's own (`kes guard` from dist/, verify/processes/guardProcess.ts), on the stack's
 * Kafka and registry, under a namespace no other run uses: their topics and Redis keys are the run's alone, so the
 * run can delete them afterwards, kill the guards, or point them at a Redis of its own.
 */
export interface GuardNamespace {
  namespace: string;
  topicPrefix: string;
  redisPrefix: string;
}

export function guardNamespace(prefix: string): GuardNamespace {
  const namespace = uniqueName(prefix);
  return { namespace, topicPrefix: `${namespace}.`, redisPrefix: `${namespace}:` };
}

export function labGuardEnv(
  config: KesConfig,
  ns: GuardNamespace,
  options: { redisUrl?: string; settings?: Record<string, string> } = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL,
    REDIS_URL: options.redisUrl ?? config.REDIS_URL,
    // A Sentinel setting of the stack would send the guards to the shared Redis whatever REDIS_URL says.
    KES_REDIS_SENTINELS: '',
    KES_REDIS_PREFIX: ns.redisPrefix,
    KES_TOPIC_PREFIX: ns.topicPrefix,
    KES_SCHEMAS_DIR: config.KES_SCHEMAS_DIR,
    KES_HOME: config.KES_HOME,
    ...options.settings,
  };
}

/** Starts `count` guards side by side; when one does not come up, stops the others and throws its error. */
export async function startGuards(count: number, env: Record<string, string>, name = 'guard'): Promise<GuardProcess[]> {
  const ports = await freePorts(count);
  const guards = ports.map((port, i) => new GuardProcess(`${name} ${i + 1}`, port, env));
  const started = await Promise.allSettled(guards.map((g) => g.start()));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopGuards(guards);
    throw failed.reason;
  }
  return guards;
}

/** SIGTERM to each (SIGKILL after 15 s); never throws, so it can run in a `finally`. */
export async function stopGuards(guards: readonly GuardProcess[]): Promise<void> {
  await Promise.all(guards.map((g) => g.stop().catch(() => {})));
}
