import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { redisConnectionOptions, usesSentinels } from './redisClient.js';

describe('redisConnectionOptions', () => {
  it('connects to REDIS_URL when no sentinels are configured', () => {
    const config = loadConfig({ env: { REDIS_URL: 'redis://:s3cret@10.0.0.5:7000/2' } });
    expect(usesSentinels(config)).toBe(false);
    expect(redisConnectionOptions(config)).toEqual({ host: '10.0.0.5', port: 7000, password: 's3cret', db: 2 });
  });

  it('asks the sentinels for the master by name, reconnects on READONLY, keeps the password and database', () => {
    const config = loadConfig({
      env: {
        REDIS_URL: 'redis://:s3cret@127.0.0.1:16379/1',
        KES_REDIS_SENTINELS: '127.0.0.1:26379, sentinel-b:26380',
        KES_REDIS_MASTER_NAME: 'orders',
      },
    });
    expect(usesSentinels(config)).toBe(true);
    const options = redisConnectionOptions(config);
    expect(options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
      ],
      name: 'orders',
      role: 'master',
      password: 's3cret',
      db: 1,
    });
    expect(options).not.toHaveProperty('host');
    expect(options).not.toHaveProperty('failoverDetector');
    expect(options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(true);
    expect(options.reconnectOnError?.(new Error('ERR other'))).toBe(false);
  });

  it('refuses a sentinel list that is not host:port', () => {
    expect(() => loadConfig({ env: { KES_REDIS_SENTINELS: '127.0.0.1' } })).toThrow(/KES_REDIS_SENTINELS/);
  });
});
