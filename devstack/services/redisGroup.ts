import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { findFreePort, isPortFree } from '../ports.js';
import { requireTool } from '../prerequisites.js';
import type { RedisGroupName } from '../types.js';
import { redisNodeConf, sentinelConf } from './redisSentinelConf.js';
import {
  type LocalService,
  logPath,
  pidPath,
  type RedisGroupPorts,
  type StackContext,
  type StackPorts,
  serviceDir,
} from './service.js';

const HINT = 'install it with apt-get install -y redis-server';
/** The master group the stack's sentinels monitor (KES_REDIS_MASTER_NAME of the stack). */
export const STACK_MASTER_NAME = 'kes';
export const SENTINELS = 3;

/**
 * `kes stack up --redis-replicas N`: beside the `redis` service (the first master), N replicas (`redis-replica-1`, …)
 * and three sentinels (`redis-sentinel-1..3`, `redis-server --sentinel`), each a service with its own directory,
 * pid and log, so that a test or an operator can kill one alone. Quorum two of three: one sentinel may be down and
 * a failover still happens. The stack then writes KES_REDIS_SENTINELS to stack.env and every kes client follows the
 * master through them.
 */
export function redisGroupServices(replicas: number): LocalService[] {
  if (replicas === 0) return [];
  return [
    ...Array.from({ length: replicas }, (_, i) => replicaService(i + 1)),
    ...Array.from({ length: SENTINELS }, (_, i) => sentinelService(i + 1, replicas)),
  ];
}

export function isRedisGroupNode(name: string): boolean {
  return /^redis-(replica|sentinel)-\d+$/.test(name);
}

/** `host:port,...` of the sentinels, for KES_REDIS_SENTINELS. */
export function sentinelAddresses(ports: StackPorts): string | undefined {
  const sentinels = ports.redisExtra?.sentinels ?? [];
  return sentinels.length === 0 ? undefined : sentinels.map((p) => `127.0.0.1:${p}`).join(',');
}

/**
 * Ports of the replicas and sentinels. No settings of their own: replica i wants the master's port + i, sentinel i
 * the master's port + 10000 + i - 1 (26379.. by default), and a taken one moves to a free port. Once planned they stay:
 * the sentinels' own config files name them.
 */
export async function planRedisGroup(
  replicas: number,
  ports: StackPorts,
  remembered: RedisGroupPorts | undefined,
): Promise<RedisGroupPorts | undefined> {
  if (replicas === 0) return undefined;
  const taken = new Set<number>(Object.values(ports).flatMap((value) => (typeof value === 'number' ? [value] : [])));
  for (const extra of ports.kafkaExtra ?? []) taken.add(extra.broker).add(extra.controller);
  const pick = async (wanted: number, held: boolean): Promise<number> => {
    const port =
      held || (!taken.has(wanted) && (await isPortFree(wanted))) ? wanted : await findFreePort(wanted + 1, taken);
    taken.add(port);
    return port;
  };
  const planned: RedisGroupPorts = { replicas: [], sentinels: [] };
  for (let i = 0; i < replicas; i++) {
    const before = remembered?.replicas[i];
    planned.replicas.push(await pick(before ?? ports.redis + 1 + i, before !== undefined));
  }
  for (let i = 0; i < SENTINELS; i++) {
    const before = remembered?.sentinels[i];
    planned.sentinels.push(await pick(before ?? ports.redis + 10_000 + i, before !== undefined));
  }
  return planned;
}

/**
 * The port of the master the running sentinels name, if any answers. A node that starts again after a failover
 * must come back as a replica of that master, not as a second master with old data.
 */
export async function currentMasterPort(ports: StackPorts): Promise<number | undefined> {
  for (const port of ports.redisExtra?.sentinels ?? []) {
    const addr = await ask(port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', STACK_MASTER_NAME));
    if (Array.isArray(addr) && addr.length === 2) return Number(addr[1]);
  }
  return undefined;
}

/** The replicaof line a data node (the first master or a replica) starts with. */
export async function replicaOfFor(
  ctx: StackContext,
  ownPort: number,
): Promise<{ host: string; port: number } | undefined> {
  const master = (await currentMasterPort(ctx.ports)) ?? ctx.ports.redis;
  return master === ownPort ? undefined : { host: '127.0.0.1', port: master };
}

function replicaService(i: number): LocalService {
  const name: RedisGroupName = `redis-replica-${i}`;
  const portOf = (ctx: Pick<StackContext, 'ports'>) => ctx.ports.redisExtra?.replicas[i - 1] ?? 0;
  return {
    name,
    portKeys: [],
    available() {
      requireTool('redis-server', HINT);
      return true;
    },
    async prepare(ctx) {
      const dir = serviceDir(ctx, name);
      mkdirSync(join(dir, 'data'), { recursive: true });
      const conf = join(dir, 'redis.conf');
      const lines = redisNodeConf({
        port: portOf(ctx),
        dir: join(dir, 'data'),
        appendfsync: ctx.config.KES_REDIS_APPENDFSYNC,
        replicaOf: await replicaOfFor(ctx, portOf(ctx)),
      });
      writeFileSync(conf, `# Written by kes stack up; rewritten on every start.\n${lines.join('\n')}\n`);
      return { command: requireTool('redis-server', HINT), args: [conf], cwd: dir, ...files(ctx, name) };
    },
    ready: async (ctx) => (await ask(portOf(ctx), (r) => r.ping())) === 'PONG',
    address: (ctx) => `redis://127.0.0.1:${portOf(ctx)}`,
    version: redisVersion,
  };
}

function sentinelService(i: number, replicas: number): LocalService {
  const name: RedisGroupName = `redis-sentinel-${i}`;
  const portOf = (ctx: Pick<StackContext, 'ports'>) => ctx.ports.redisExtra?.sentinels[i - 1] ?? 0;
  return {
    name,
    portKeys: [],
    available() {
      requireTool('redis-server', HINT);
      return true;
    },
    async prepare(ctx) {
      const dir = serviceDir(ctx, name);
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'sentinel.conf');
      // The sentinel rewrites this file as it learns the group (epochs, replicas, other sentinels): written once,
      // then it is the sentinel's. A fresh one monitors whichever master the others name now.
      if (!existsSync(conf)) {
        const master = (await currentMasterPort(ctx.ports)) ?? ctx.ports.redis;
        const lines = sentinelConf({
          port: portOf(ctx),
          dir,
          masterName: STACK_MASTER_NAME,
          master: { host: '127.0.0.1', port: master },
        });
        writeFileSync(conf, `# Written by kes stack up once; the sentinel keeps it up to date.\n${lines.join('\n')}\n`);
      }
      return { command: requireTool('redis-server', HINT), args: [conf, '--sentinel'], cwd: dir, ...files(ctx, name) };
    },
    // Ready once it knows the replicas and the two other sentinels: before that it cannot take part in a failover
    // (seen: a master killed a second after `up` was marked down by each sentinel alone, and never failed over).
    // Sentinels find each other through the master's hello channel (every 2 s) and replicas in its INFO (every
    // 10 s), so a first `up` waits up to about 10 s here.
    async ready(ctx) {
      const master = await ask(portOf(ctx), (r) => r.call('SENTINEL', 'MASTER', STACK_MASTER_NAME));
      if (!Array.isArray(master)) return false;
      const field = (name: string) => Number(master[master.indexOf(name) + 1]);
      return field('num-slaves') >= replicas && field('num-other-sentinels') >= SENTINELS - 1;
    },
    address: (ctx) => `127.0.0.1:${portOf(ctx)}`,
    version: redisVersion,
  };
}

function files(ctx: StackContext, name: RedisGroupName): { logPath: string; pidPath: string } {
  return { logPath: logPath(ctx, name), pidPath: pidPath(ctx, name) };
}

async function redisVersion(): Promise<string | undefined> {
  const { spawnSync } = await import('node:child_process');
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=(\S+)/.exec(out)?.[1];
}

/** One command on a short-lived direct connection; undefined when nothing answers. */
export async function ask<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T | undefined> {
  if (port === 0) return undefined;
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await run(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
