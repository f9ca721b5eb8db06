import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '../prerequisites.js';
import { ask, replicaOfFor } from './redisGroup.js';
import { type LocalService, logPath, pidPath, serviceDir } from './service.js';

const HINT = 'install it with apt-get install -y redis-server';

/**
 * Redis with AOF on (fsync policy from KES_REDIS_APPENDFSYNC) and RDB snapshots off, on its own port and in its
 * own directory: the guard's data-loss tests restart it, roll it back and delete its files, which they must
 * never do to a Redis someone else runs.
 */
export const redisService: LocalService = {
  name: 'redis',
  portKeys: ['redis'],

  available() {
    requireTool('redis-server', HINT);
    return true;
  },

  async prepare(ctx) {
    const dir = serviceDir(ctx, 'redis');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const conf = join(dir, 'redis.conf');
    // In a Sentinel group (--redis-replicas) this node may have lost a failover while it was down: it then comes
    // back as a replica of the master the sentinels name, never as a second master with older data.
    const replicaOf = ctx.ports.redisExtra ? await replicaOfFor(ctx, ctx.ports.redis) : undefined;
    writeFileSync(
      conf,
      [
        '# Written by kes stack up; rewritten on every start.',
        'bind 127.0.0.1',
        `port ${ctx.ports.redis}`,
        `dir ${join(dir, 'data')}`,
        'daemonize no',
        'appendonly yes',
        `appendfsync ${ctx.config.KES_REDIS_APPENDFSYNC}`,
        'save ""',
        'loglevel notice',
        'logfile ""',
        ...(ctx.ports.redisExtra ? ['replica-announce-ip 127.0.0.1'] : []),
        ...(replicaOf ? [`replicaof ${replicaOf.host} ${replicaOf.port}`] : []),
        '',
      ].join('\n'),
    );
    return {
      command: requireTool('redis-server', HINT),
      args: [conf],
      cwd: dir,
      logPath: logPath(ctx, 'redis'),
      pidPath: pidPath(ctx, 'redis'),
    };
  },

  // While Redis replays its AOF it answers LOADING: not ready yet.
  ready: async (ctx) => (await ask(ctx.ports.redis, (r) => r.ping())) === 'PONG',

  address(ctx) {
    return `redis://127.0.0.1:${ctx.ports.redis}`;
  },

  async version() {
    const { spawnSync } = await import('node:child_process');
    const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
    return /v=(\S+)/.exec(out)?.[1];
  },
};
