import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeCommand, composePorts, dockerEngineAnswers } from '../devstack/dockerStack.js';
import { serviceNames } from '../devstack/types.js';
import { defaultPorts } from '../pipeline/config/config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const composeFile = join(root, 'docker-compose.yml');

interface Service {
  image?: string;
  command?: string | string[];
  ports?: (string | number)[];
  volumes?: string[];
  healthcheck?: { test?: unknown };
  environment?: Record<string, unknown>;
}

const compose = parse(readFileSync(composeFile, 'utf8')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** Host side of short-syntax port mappings: "127.0.0.1:19092:19092" and "19092:19092" both give 19092. */
function hostPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => {
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    return parts.length >= 2 ? Number(parts[parts.length - 2]) : Number.NaN;
  });
}

describe('docker-compose.yml', () => {
  it('declares the stack services, each with a healthcheck', () => {
    for (const name of serviceNames) {
      expect(service(name).image, `${name} image`).toEqual(expect.any(String));
      expect(service(name).healthcheck?.test, `${name} healthcheck`).toBeDefined();
    }
  });

  it('publishes the local stack default ports, so stack.env is the same in both modes', () => {
    expect(hostPorts(service('kafka'))).toContain(19092);
    expect(hostPorts(service('registry'))).toContain(18081);
    expect(hostPorts(service('redis'))).toContain(16379);
    expect(hostPorts(service('clickhouse'))).toEqual(expect.arrayContaining([18123, 19000]));
    expect(hostPorts(service('postgres'))).toContain(15432);

    expect(composePorts.kafka).toBe(defaultPorts.KES_KAFKA_PORT);
    expect(composePorts.registry).toBe(defaultPorts.KES_REGISTRY_PORT);
    expect(composePorts.redis).toBe(defaultPorts.KES_REDIS_PORT);
    expect(composePorts.clickhouseHttp).toBe(defaultPorts.KES_CLICKHOUSE_HTTP_PORT);
    expect(composePorts.clickhouseTcp).toBe(defaultPorts.KES_CLICKHOUSE_TCP_PORT);
    expect(composePorts.postgres).toBe(defaultPorts.KES_POSTGRES_PORT);
  });

  it('runs Kafka 4.x in KRaft mode advertising the published port', () => {
    const kafka = service('kafka');
    expect(kafka.image).toMatch(/^apache\/kafka:4\./);
    expect(kafka.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(String(kafka.environment?.KAFKA_ADVERTISED_LISTENERS)).toContain('127.0.0.1:19092');
    expect(String(kafka.environment?.KAFKA_AUTO_CREATE_TOPICS_ENABLE)).toBe('false');
  });

  it('runs Redis with the append-only file on', () => {
    const command = service('redis').command;
    const text = Array.isArray(command) ? command.join(' ') : String(command);
    expect(text).toMatch(/--appendonly yes/);
    expect(text).toMatch(/--appendfsync \$\{KES_REDIS_APPENDFSYNC:-everysec\}/);
  });

  it('keeps data in declared named volumes', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const mounts: Record<string, string> = {
      kafka: '/var/lib/kafka/data',
      redis: '/data',
      clickhouse: '/var/lib/clickhouse',
      postgres: '/var/lib/postgresql/data',
    };
    for (const [name, target] of Object.entries(mounts)) {
      const volume = service(name)
        .volumes?.map((v) => v.split(':'))
        .find(([, t]) => t === target)?.[0];
      expect(volume, `${name} volume at ${target}`).toBeDefined();
      expect(declared, `${name} volume ${volume} declared`).toContain(volume);
    }
    expect(service('kafka').environment?.KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data');
  });

  it('is accepted by the installed compose client', () => {
    const compose = composeCommand();
    if (!compose) {
      expect.fail(
        'neither `docker compose` nor `docker-compose` is installed: install docker-compose (e.g. `apt-get install docker-compose`) or the Docker Compose plugin',
      );
    }
    const result = spawnSync(compose.command, [...compose.args, '-f', composeFile, 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.error, String(result.error)).toBeUndefined();
    expect(result.status, `${compose.command} ${compose.args.join(' ')} config -q:\n${result.stderr}`).toBe(0);
  });
});

describe('dockerEngineAnswers', () => {
  it('resolves within 10 s whether or not an engine runs', async () => {
    const started = Date.now();
    const answers = await dockerEngineAnswers();
    expect(typeof answers).toBe('boolean');
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);
});
