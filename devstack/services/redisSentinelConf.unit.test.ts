import { describe, expect, it } from 'vitest';
import { redisNodeConf, sentinelConf } from './redisSentinelConf.js';

describe('Redis Sentinel group config', () => {
  it('a replica replicates its master and announces itself on loopback', () => {
    const lines = redisNodeConf({
      port: 16380,
      dir: '/d',
      appendfsync: 'everysec',
      replicaOf: { host: '127.0.0.1', port: 16379 },
    });
    expect(lines).toContain('replicaof 127.0.0.1 16379');
    expect(lines).toContain('appendonly yes');
    expect(lines).toContain('appendfsync everysec');
    expect(lines).toContain('replica-announce-ip 127.0.0.1');
    expect(redisNodeConf({ port: 1, dir: '/d' })).toContain('appendonly no');
  });

  it('a sentinel monitors the master by name with a quorum of two and the short single-host timings', () => {
    const lines = sentinelConf({
      port: 26379,
      dir: '/s',
      masterName: 'kes',
      master: { host: '127.0.0.1', port: 16379 },
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        'port 26379',
        'sentinel monitor kes 127.0.0.1 16379 2',
        'sentinel down-after-milliseconds kes 1000',
        'sentinel failover-timeout kes 2000',
      ]),
    );
  });
});
