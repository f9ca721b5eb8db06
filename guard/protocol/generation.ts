import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { generationRecord, runIdOf, validGeneration } from './generationRecord.js';
import type { KeySpace } from './keys.js';
import type { Validated } from './redisState.js';

/**
 * The generation record says "this Redis state was checked against Kafka, on the server with this run id".
 * Redis gets a new run id at every start, so a restart (with its data lost or rolled back to an older AOF or RDB)
 * or a failover to a replica makes the record stale, even when the record itself survived. Scripts compare both
 * on every call, so no decision is ever taken on state that was not validated on the running server.
 */

export async function serverRunId(redis: Redis): Promise<string> {
  return runIdOf(await redis.info('server'));
}

export async function currentGeneration(redis: Redis, keys: KeySpace): Promise<Validated | undefined> {
  const [record, runId] = await Promise.all([redis.get(keys.gen), serverRunId(redis)]);
  return validGeneration(record, runId);
}

/** Whether any generation was ever written: without one, nothing in Redis can be trusted (not even watermarks). */
export async function hasGenerationRecord(redis: Redis, keys: KeySpace): Promise<boolean> {
  return (await redis.exists(keys.gen)) === 1;
}

export async function writeGeneration(redis: Redis, keys: KeySpace, runId: string): Promise<Validated> {
  const gen = randomUUID();
  await redis.set(keys.gen, generationRecord(gen, runId));
  return { gen, runId };
}
