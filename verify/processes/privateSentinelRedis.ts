import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  defaultSentinelTiming,
  redisNodeConf,
  type SentinelGroupTiming,
  sentinelConf,
} from '../../devstack/services/redisSentinelConf.js';
import { freePorts } from './freePort.js';
import { waitFor } from './waitFor.js';

interface Node {
  port: number;
  dir: string;
  child?: ChildProcess | undefined;
}

/**
 * A Redis master, its replicas and three sentinels of one test's own (own ports, own temp dir), so that the test
 * can kill -9 the master and watch the sentinels promote a replica without touching the shared stack.
 */
export class PrivateSentinelRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'kes-sentinel-'));
  readonly masterName = 'kes';
  private nodes: Node[] = [];
  private sentinelNodes: Node[] = [];

  constructor(private readonly options: { replicas: number; timing?: SentinelGroupTiming } = { replicas: 1 }) {}

  /** `host:port,...` of the sentinels: KES_REDIS_SENTINELS. */
  get sentinels(): string {
    return this.sentinelNodes.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The env a guard needs to reach this group (REDIS_URL only says "no password, database 0"). */
  get env(): Record<string, string> {
    return {
      REDIS_URL: `redis://127.0.0.1:${this.nodes[0]?.port ?? 0}`,
      KES_REDIS_SENTINELS: this.sentinels,
      KES_REDIS_MASTER_NAME: this.masterName,
    };
  }

  async start(): Promise<void> {
    const ports = await freePorts(1 + this.options.replicas + 3);
    const [masterPort = 0] = ports;
    this.nodes = ports
      .slice(0, 1 + this.options.replicas)
      .map((port) => ({ port, dir: join(this.dir, `redis-${port}`) }));
    this.sentinelNodes = ports.slice(1 + this.options.replicas).map((port) => ({
      port,
      dir: join(this.dir, `sentinel-${port}`),
    }));
    await Promise.all(
      this.nodes.map((n, i) => this.startNode(n, i === 0 ? undefined : { host: '127.0.0.1', port: masterPort })),
    );
    await waitFor('replicas in sync', async () => {
      const info = await this.command(masterPort, (r) => r.info('replication'));
      return Number(/connected_slaves:(\d+)/.exec(info)?.[1]) === this.options.replicas;
    });
    for (const s of this.sentinelNodes) {
      mkdirSync(s.dir, { recursive: true });
      const conf = join(s.dir, 'sentinel.conf');
      writeFileSync(
        conf,
        `${sentinelConf({
          port: s.port,
          dir: s.dir,
          masterName: this.masterName,
          master: { host: '127.0.0.1', port: masterPort },
          timing: this.options.timing ?? defaultSentinelTiming,
        }).join('\n')}\n`,
      );
      s.child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    }
    // Ready when every sentinel sees the master, its replicas and the two other sentinels: only then can they
    // agree on a failover.
    await waitFor('sentinels know the group', async () => {
      for (const s of this.sentinelNodes) {
        const master = (await this.command(s.port, (r) => r.call('SENTINEL', 'MASTER', this.masterName))) as string[];
        const field = (name: string) => Number(master[master.indexOf(name) + 1]);
        if (field('num-slaves') < this.options.replicas || field('num-other-sentinels') < 2) return false;
      }
      return true;
    });
  }

  /** The master the sentinels name now (port). */
  async masterPort(): Promise<number> {
    for (const s of this.sentinelNodes) {
      try {
        const addr = (await this.command(s.port, (r) =>
          r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName),
        )) as [string, string] | null;
        if (addr) return Number(addr[1]);
      } catch {
        // that sentinel is down: ask the next
      }
    }
    throw new Error('no sentinel names a master');
  }

  /** kill -9 the current master; resolves with its port once the process is gone. */
  async killMaster(): Promise<number> {
    const port = await this.masterPort();
    const node = this.nodes.find((n) => n.port === port);
    if (!node?.child) throw new Error(`master on ${port} is not one of ours`);
    await kill(node.child);
    node.child = undefined;
    return port;
  }

  /**
   * Waits until a sentinel names another master than `oldPort` and that node says it is a master. Every sentinel is
   * asked: the one that led the failover knows first, the others learn it from its hello messages (every 2 s).
   */
  async waitForPromotion(oldPort: number, timeoutMs = 30_000): Promise<number> {
    return waitFor(
      `a replica promoted in place of ${oldPort}`,
      async () => {
        for (const s of this.sentinelNodes) {
          const addr = (await this.command(s.port, (r) =>
            r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName),
          ).catch(() => null)) as [string, string] | null;
          const port = Number(addr?.[1]);
          if (!addr || port === oldPort) continue;
          const role = await this.command(port, (r) => r.info('replication'));
          if (role.includes('role:master')) return port;
        }
        return undefined;
      },
      timeoutMs,
      50,
    );
  }

  /** Starts a killed node again, as a replica of the current master (what the sentinels would make of it). */
  async restart(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node || node.child) return;
    const master = await this.masterPort();
    await this.startNode(node, { host: '127.0.0.1', port: master });
    // A full resync: the master forks for an RDB and, diskless by default in Redis 7, waits 5 s for more replicas.
    await waitFor(
      `${port} replicating ${master}`,
      async () => {
        const info = await this.command(port, (r) => r.info('replication'));
        return info.includes('master_link_status:up');
      },
      90_000,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes, ...this.sentinelNodes].map((n) => (n.child ? kill(n.child) : undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startNode(node: Node, replicaOf: { host: string; port: number } | undefined): Promise<void> {
    mkdirSync(node.dir, { recursive: true });
    const conf = join(node.dir, 'redis.conf');
    writeFileSync(
      conf,
      `${redisNodeConf({ port: node.port, dir: node.dir, appendfsync: 'everysec', replicaOf }).join('\n')}\n`,
    );
    node.child = spawn('redis-server', [conf], { stdio: 'ignore' });
    await waitFor(`redis on ${node.port}`, async () => (await this.command(node.port, (r) => r.ping())) === 'PONG');
  }

  /** One command on a fresh direct connection to one process (a sentinel or a node, never through the group). */
  private async command<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      connectTimeout: 1000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    try {
      await redis.connect();
      return await run(redis);
    } finally {
      redis.disconnect();
    }
  }
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}
