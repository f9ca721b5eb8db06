/**
 * Config files of a Redis master/replica group watched by sentinels, as lines. Pure, so that the local stack and
 * the failover tests write the same files and a unit test can read them.
 *
 * Why these values: `down-after-milliseconds` decides how long writes stall before a failover starts, so it is
 * short on a single machine where a dead process is refused at once (production across hosts wants 5-30 s to ride
 * out network blips). `failover-timeout` also sets how soon a sentinel retries a failover that did not happen (twice
 * the value). That matters more than it seems: while the master is up, sentinels refresh a replica's INFO only every
 * 10 s, and once the master is down they refuse a replica whose INFO is older than 5 s
 * (`-failover-abort-no-good-slave`), so the first attempt fails about half the time and the retry decides. Seen
 * here with 4000: promotion after 9 s instead of 2.5 s. 2000 bounds it near 1 + 4 + 1 s; the failover itself
 * (REPLICAOF NO ONE, seen in the next 1 s INFO) fits well inside it on one host.
 */
export interface SentinelGroupTiming {
  /** A master that answers nothing this long is subjectively down. @default 1000 */
  downAfterMs: number;
  /** @default 2000 */
  failoverTimeoutMs: number;
}

export const defaultSentinelTiming: SentinelGroupTiming = { downAfterMs: 1000, failoverTimeoutMs: 2000 };

export interface RedisNodeConf {
  port: number;
  dir: string;
  /** AOF fsync policy; `undefined` runs without AOF. */
  appendfsync?: 'always' | 'everysec' | 'no' | undefined;
  /** The master to replicate, for a replica. */
  replicaOf?: { host: string; port: number } | undefined;
}

export function redisNodeConf(node: RedisNodeConf): string[] {
  return [
    'bind 127.0.0.1',
    `port ${node.port}`,
    `dir ${node.dir}`,
    'daemonize no',
    `appendonly ${node.appendfsync ? 'yes' : 'no'}`,
    ...(node.appendfsync ? [`appendfsync ${node.appendfsync}`] : []),
    'save ""',
    // A replica announces itself to the sentinels by the address the master sees; on one host that is loopback.
    'replica-announce-ip 127.0.0.1',
    ...(node.replicaOf ? [`replicaof ${node.replicaOf.host} ${node.replicaOf.port}`] : []),
    'logfile ""',
  ];
}

export interface SentinelConf {
  port: number;
  dir: string;
  masterName: string;
  master: { host: string; port: number };
  /** Sentinels that must agree the master is down before a failover. @default 2 (of three) */
  quorum?: number;
  timing?: SentinelGroupTiming;
}

/** A sentinel's starting config; the sentinel rewrites the file as it learns the group (it must be writable). */
export function sentinelConf(conf: SentinelConf): string[] {
  const timing = conf.timing ?? defaultSentinelTiming;
  const name = conf.masterName;
  return [
    'bind 127.0.0.1',
    `port ${conf.port}`,
    `dir ${conf.dir}`,
    'daemonize no',
    'logfile ""',
    'sentinel announce-ip 127.0.0.1',
    `sentinel monitor ${name} ${conf.master.host} ${conf.master.port} ${conf.quorum ?? 2}`,
    `sentinel down-after-milliseconds ${name} ${timing.downAfterMs}`,
    `sentinel failover-timeout ${name} ${timing.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${name} 1`,
  ];
}
