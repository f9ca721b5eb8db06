import { Redis, type RedisOptions } from 'ioredis';
import type { KesConfig } from '../config/config.js';

/** What a Redis client needs to know of the config: one server, or sentinels that name the master. */
export type RedisTarget = Pick<KesConfig, 'REDIS_URL'> &
  Partial<Pick<KesConfig, 'KES_REDIS_SENTINELS' | 'KES_REDIS_MASTER_NAME'>>;

export interface RedisClientOptions extends Omit<RedisOptions, 'sentinels' | 'name' | 'role' | 'host' | 'port'> {
  /** Prefix every key (tests use a random one per test for isolation). */
  keyPrefix?: string;
  /** How many times a command is retried across reconnects before it fails. @default 3 */
  maxRetriesPerRequest?: number | null;
}

/**
 * How to reach Redis, as ioredis options. With sentinels: ask them for the master of `KES_REDIS_MASTER_NAME` on every
 * connect, and check that the node is still a master (ioredis does, by its role). A dead master closes the
 * connection, and the reconnect asks the sentinels again; a master demoted while alive (a manual failover) answers
 * writes with READONLY, which reconnects too. REDIS_URL still gives the password and database. Pure: unit-tested.
 *
 * Not ioredis' `failoverDetector`: its disconnect on `+switch-master` can land while a reconnect is under way, and
 * ioredis 6 then ends the client for good ("Connection is closed.", status `end`); seen in the Sentinel failover
 * test, where one guard answered 503 until the end of the run.
 */
export function redisConnectionOptions(target: RedisTarget): RedisOptions {
  const url = new URL(target.REDIS_URL);
  const auth: RedisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const sentinels = target.KES_REDIS_SENTINELS;
  if (!sentinels || sentinels.length === 0) {
    return { host: url.hostname, port: url.port ? Number(url.port) : 6379, ...auth };
  }
  return {
    sentinels: sentinels.map((address) => {
      const at = address.lastIndexOf(':');
      return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
    }),
    name: target.KES_REDIS_MASTER_NAME ?? 'kes',
    role: 'master',
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
    // Keep asking the sentinels while none answers (they restart too); never give up for good.
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    ...auth,
  };
}

/** The one way kes makes a Redis client: every service, benchmark and verifier goes through here. */
export function createRedis(target: RedisTarget, options: RedisClientOptions = {}): Redis {
  const { keyPrefix, maxRetriesPerRequest, ...rest } = options;
  const merged: Omit<RedisOptions, 'replyMapping'> = {
    ...redisConnectionOptions(target),
    maxRetriesPerRequest: maxRetriesPerRequest === undefined ? 3 : maxRetriesPerRequest,
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
    ...(rest as Omit<RedisOptions, 'replyMapping'>),
  };
  return new Redis(merged);
}

/** Whether the config names sentinels (then a failover, not a restart, is how the master changes). */
export function usesSentinels(target: RedisTarget): boolean {
  return (target.KES_REDIS_SENTINELS?.length ?? 0) > 0;
}
