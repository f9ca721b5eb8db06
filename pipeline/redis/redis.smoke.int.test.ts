import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { createRedis } from './redisClient.js';

/** The primitive the guard is built on: a version compare-and-swap done atomically by a Lua script. */
const CAS = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if current ~= tonumber(ARGV[1]) then return {0, current} end
redis.call('SET', KEYS[1], ARGV[2])
return {1, tonumber(ARGV[2])}
`;

describe('Redis smoke (ioredis, Lua via EVALSHA)', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = createRedis({ REDIS_URL: stack().redisUrl }, { keyPrefix: `${uniqueName('smoke')}:` });
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('a compare-and-swap succeeds once and fails on a stale version', async () => {
    const sha = (await redis.script('LOAD', CAS)) as string;
    const key = 'stream-version:account-1';
    // Keys are passed explicitly, so the client's prefix applies to them as to any other command.
    expect(await redis.evalsha(sha, 1, key, '-1', '0')).toEqual([1, 0]);
    expect(await redis.evalsha(sha, 1, key, '0', '1')).toEqual([1, 1]);
    // A writer that still believes the stream is at version 0 loses, and learns the actual version.
    expect(await redis.evalsha(sha, 1, key, '0', '1')).toEqual([0, 1]);
    expect(await redis.get(key)).toBe('1');
  });

  it('runs with AOF on, so that restarts keep state', async () => {
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as [string, string];
    expect(appendonly).toBe('yes');
  });
});
