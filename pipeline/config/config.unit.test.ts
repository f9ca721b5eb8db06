import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig, stackEnvPath } from './config.js';
import { readEnvFile, writeEnvFile } from './stackEnvFile.js';

const cwd = mkdtempSync(join(tmpdir(), 'kes-config-'));

describe('loadConfig', () => {
  it('has defaults that point at the local stack', () => {
    const config = loadConfig({ env: {}, cwd });
    expect(config.KES_HOME).toBe(join(cwd, '.kes'));
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:19092']);
    expect(config.SCHEMA_REGISTRY_URL).toBe('http://127.0.0.1:18081/apis/ccompat/v7');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:16379');
    expect(config.CLICKHOUSE_URL).toBeUndefined();
    expect(config.CLICKHOUSE_EMBEDDED_PATH).toBe(join(cwd, '.kes', 'chdb'));
    expect(config.KES_REDIS_APPENDFSYNC).toBe('everysec');
    expect(config.explicit.size).toBe(0);
  });

  it('takes flags over env over stack.env over defaults', () => {
    const home = mkdtempSync(join(tmpdir(), 'kes-home-'));
    writeEnvFile(stackEnvPath(home), { KAFKA_BROKERS: 'file:1', REDIS_URL: 'redis://file:2' }, 'test');
    const config = loadConfig({
      env: { KES_HOME: home, REDIS_URL: 'redis://env:3', KES_REDIS_PORT: '7000' },
      overrides: { KES_REDIS_PORT: '7001' },
      cwd,
    });
    expect(config.KAFKA_BROKERS).toEqual(['file:1']);
    expect(config.REDIS_URL).toBe('redis://env:3');
    expect(config.KES_REDIS_PORT).toBe(7001);
    expect(config.explicit.has('KES_REDIS_PORT')).toBe(true);
    expect(config.explicit.has('KES_KAFKA_PORT')).toBe(false);
    expect(loadConfig({ env: { KES_HOME: home }, cwd, ignoreStackEnv: true }).KAFKA_BROKERS).toEqual([
      '127.0.0.1:19092',
    ]);
  });

  it.each([
    ['KES_REDIS_PORT', '70000'],
    ['KES_KAFKA_PORT', 'abc'],
    ['KAFKA_BROKERS', 'no-port-here'],
    ['REDIS_URL', 'http://not-redis:6379'],
    ['SCHEMA_REGISTRY_URL', 'not a url'],
    ['KES_REDIS_APPENDFSYNC', 'sometimes'],
    ['KES_STACK_MODE', 'kubernetes'],
    ['KES_REGISTRY_COMPATIBILITY', 'LAX'],
  ])('rejects %s=%s with an error naming the setting', (name, value) => {
    const attempt = () => loadConfig({ env: { [name]: value }, cwd });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(new RegExp(`^${name}(\\.\\d+)?: `));
  });
});

describe('stack.env', () => {
  it('round-trips values and skips comments and blank lines', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kes-env-')), 'stack.env');
    writeEnvFile(path, { A: '1', B: 'x=y', C: undefined }, 'header');
    writeFileSync(path, `\n# note\n${readFileSync(path, 'utf8')}`);
    expect(readEnvFile(path)).toEqual({ A: '1', B: 'x=y' });
    expect(readEnvFile(join(tmpdir(), 'kes-no-such-file.env'))).toEqual({});
  });
});
