import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../pipeline/config/config.js';
import { readEnvFile } from '../pipeline/config/stackEnvFile.js';
import { createRedis } from '../pipeline/redis/redisClient.js';
import { freePort } from '../test/support/freePort.js';
import { runKes } from '../test/support/runKes.js';
import { waitFor } from '../test/support/waitFor.js';
import { readPid } from './processes.js';
import { readStackState } from './stackState.js';

/**
 * `kes stack up --redis-replicas 1` (issue 16) on a home and ports of its own, Redis only: a master, a replica and
 * three sentinels start with one command, stack.env tells every kes client to go through the sentinels, a client
 * made by kes' factory follows a kill -9 of the master to the promoted replica, and `stack up` brings the old
 * master back as a replica of the new one, never as a second master.
 */
async function role(port: number): Promise<string> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return /role:(\w+)/.exec(await redis.info('replication'))?.[1] ?? '';
  } catch {
    return 'down';
  } finally {
    redis.disconnect();
  }
}

describe('kes stack up --redis-replicas 1 (own home)', () => {
  const home = mkdtempSync(join(tmpdir(), 'kes-sentinel-stack-'));
  let env: NodeJS.ProcessEnv;
  let passed = false;

  beforeAll(async () => {
    env = { KES_REDIS_PORT: String(await freePort()), KES_REDIS_APPENDFSYNC: 'always' };
  });

  afterAll(async () => {
    await runKes(['--home', home, 'stack', 'down'], { env });
    // Kept when the test failed: the services' logs say why.
    if (passed) rmSync(home, { recursive: true, force: true });
  });

  it('runs a master, a replica and three sentinels, and kes clients follow a failover', async () => {
    const up = await runKes(
      ['--home', home, 'stack', '--mode', 'local', 'up', '--only', 'redis', '--redis-replicas', '1'],
      {
        env,
      },
    );
    expect(up.code, up.stderr).toBe(0);
    for (const name of ['redis', 'redis-replica-1', 'redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3']) {
      expect(up.stdout).toMatch(new RegExp(`${name}\\s+│ up`));
    }
    const stackEnv = readEnvFile(join(home, 'stack.env'));
    expect(stackEnv.KES_REDIS_SENTINELS?.split(',')).toHaveLength(3);
    expect(stackEnv.KES_REDIS_MASTER_NAME).toBe('kes');

    const config = loadConfig({ env: { KES_HOME: home } });
    const masterPort = Number(env.KES_REDIS_PORT);
    const replicaPort = readStackState(home)?.ports?.redisExtra?.replicas[0] ?? 0;
    const client = createRedis(config, { maxRetriesPerRequest: 1, commandTimeout: 2000 });
    client.on('error', () => {});
    try {
      await client.set('before', '1');
      await waitFor('the replica in sync', async () => (await role(replicaPort)) === 'slave');

      process.kill(readPid(join(home, 'redis', 'redis.pid')) ?? 0, 'SIGKILL');
      // The same client, with no help: the sentinels promote the replica and the client reconnects to it.
      await waitFor(
        'a write through the sentinels after the failover',
        async () => {
          await client.set('after', '1');
          return (await role(replicaPort)) === 'master';
        },
        60_000,
        200,
      );
      expect(await client.get('after')).toBe('1');

      const again = await runKes(['--home', home, 'stack', '--mode', 'local', 'up', '--only', 'redis'], { env });
      expect(again.code, again.stderr).toBe(0);
      await waitFor('the old master back as a replica', async () => (await role(masterPort)) === 'slave', 30_000);
      passed = true;
    } finally {
      client.disconnect();
    }
  });
});
