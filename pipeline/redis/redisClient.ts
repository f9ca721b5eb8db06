import { Redis } from 'ioredis';
import type { KesConfig } from '../config/config.js';

export interface RedisClientOptions {
  /** Prefix every key (tests use a random one per test for isolation). */
  keyPrefix?: string;
  /** How many times a command is retried across reconnects before it fails. @default 3 */
  maxRetriesPerRequest?: number;
}

export function createRedis(config: Pick<KesConfig, 'REDIS_URL'>, options: RedisClientOptions = {}): Redis {
  return new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
  });
}
