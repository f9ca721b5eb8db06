import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeCommand } from '../devstack/dockerStack.js';

/**
 * The compose file's `cluster` profile (issue 16) cannot be started here (no Docker engine), so its consistency is
 * checked from the file itself: what runs under which profile, ports, the Kafka quorum and replication settings, and
 * that ClickHouse's remote_servers, Keeper and macros name each other correctly.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const composeFile = join(root, 'docker-compose.yml');

interface Service {
  profiles?: string[];
  image?: string;
  hostname?: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, unknown>;
  depends_on?: Record<string, unknown>;
  healthcheck?: { test?: unknown };
}

// Merge keys (`<<: *anchor`) share the cluster nodes' settings; both compose clients resolve them.
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const kafkaNodes = ['kafka-1', 'kafka-2', 'kafka-3'];
const replicas = ['clickhouse-1', 'clickhouse-2'];
const clusterServices = [...kafkaNodes, 'clickhouse-keeper', ...replicas];

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function env(name: string, key: string): string {
  return String(service(name).environment?.[key]);
}

/** [host port, container port] of short-syntax mappings such as "127.0.0.1:19192:19192". */
function portPairs(s: Service): [number, number][] {
  return (s.ports ?? []).map((p) => {
    const parts = String(p).split(':');
    return [Number(parts[parts.length - 2]), Number(parts[parts.length - 1])];
  });
}

/** A bind mount's host file (relative to the compose file) mounted at `target`. */
function mountedFile(s: Service, target: string): string {
  const mount = (s.volumes ?? []).map((v) => v.split(':')).find(([, t]) => t === target);
  if (!mount?.[0]) throw new Error(`nothing mounted at ${target}`);
  return readFileSync(join(root, mount[0]), 'utf8');
}

/** Every text of `<tag>…</tag>` in an XML file (these files are flat and small: no parser needed). */
function tags(xml: string, tag: string): string[] {
  const withoutComments = xml.replace(/<!--[\s\S]*?-->/g, '');
  return [...withoutComments.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]?.trim() ?? '');
}

describe('docker-compose.yml, profile cluster', () => {
  it('runs three Kafka nodes, a Keeper and two ClickHouse replicas under the profile, the rest without one', () => {
    for (const name of clusterServices) {
      expect(service(name).profiles, name).toEqual(['cluster']);
      expect(service(name).image, name).toEqual(expect.any(String));
      expect(service(name).healthcheck?.test, `${name} healthcheck`).toBeDefined();
    }
    for (const name of ['kafka', 'registry', 'redis', 'clickhouse'])
      expect(service(name).profiles, name).toBeUndefined();
  });

  it('publishes no host port twice, on 127.0.0.1 only', () => {
    const all = Object.values(services).flatMap((s) => portPairs(s).map(([host]) => host));
    expect(all.every((p) => Number.isInteger(p) && p > 0)).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    for (const s of Object.values(services)) for (const p of s.ports ?? []) expect(String(p)).toMatch(/^127\.0\.0\.1:/);
  });

  it('makes the Kafka nodes one quorum of three, each advertising its published port', () => {
    const voters = env('kafka-1', 'KAFKA_CONTROLLER_QUORUM_VOTERS').split(',');
    expect(voters).toHaveLength(3);
    const ids = kafkaNodes.map((name) => Number(env(name, 'KAFKA_NODE_ID')));
    expect(new Set(ids)).toEqual(new Set([1, 2, 3]));
    kafkaNodes.forEach((name, i) => {
      expect(env(name, 'KAFKA_CONTROLLER_QUORUM_VOTERS'), name).toBe(voters.join(','));
      expect(env(name, 'CLUSTER_ID'), name).toBe(env('kafka-1', 'CLUSTER_ID'));
      expect(service(name).hostname, name).toBe(name);
      // The voter with this node's id is this node, at its CONTROLLER listener's port.
      const controllerPort = /CONTROLLER:\/\/:(\d+)/.exec(env(name, 'KAFKA_LISTENERS'))?.[1];
      expect(voters).toContain(`${ids[i]}@${name}:${controllerPort}`);
      const [[host, container] = [0, 0]] = portPairs(service(name));
      expect(host, `${name} publishes its EXTERNAL port unchanged`).toBe(container);
      expect(env(name, 'KAFKA_LISTENERS')).toContain(`EXTERNAL://:${container}`);
      expect(env(name, 'KAFKA_ADVERTISED_LISTENERS')).toContain(`EXTERNAL://127.0.0.1:${host}`);
      expect(env(name, 'KAFKA_ADVERTISED_LISTENERS')).toContain(`INTERNAL://${name}:29092`);
      expect(service(name).volumes?.[0]?.split(':')[0], `${name} volume declared`).toSatisfy((v: string) =>
        Object.keys(compose.volumes ?? {}).includes(v),
      );
    });
    expect(new Set(kafkaNodes.map((n) => service(n).volumes?.[0])).size).toBe(3);
  });

  it('replicates every topic, the transaction log and the offsets three times with two in sync', () => {
    for (const name of kafkaNodes) {
      expect(env(name, 'KAFKA_DEFAULT_REPLICATION_FACTOR'), name).toBe('3');
      expect(env(name, 'KAFKA_MIN_INSYNC_REPLICAS'), name).toBe('2');
      expect(env(name, 'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR'), name).toBe('3');
      expect(env(name, 'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR'), name).toBe('2');
      expect(env(name, 'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR'), name).toBe('3');
      expect(env(name, 'KAFKA_AUTO_CREATE_TOPICS_ENABLE'), name).toBe('false');
    }
  });

  it('names the same replicas, Keeper and ports in remote_servers, keeper and macros', () => {
    const keeper = mountedFile(service('clickhouse-keeper'), '/etc/clickhouse-keeper/keeper_config.xml');
    const keeperPort = tags(keeper, 'tcp_port')[0];
    expect(tags(keeper, 'hostname')).toEqual(['clickhouse-keeper']);
    expect(tags(keeper, 'server_id')).toEqual(tags(keeper, 'id'));

    const cluster = mountedFile(service('clickhouse-1'), '/etc/clickhouse-server/config.d/cluster.xml');
    expect(mountedFile(service('clickhouse-2'), '/etc/clickhouse-server/config.d/cluster.xml')).toBe(cluster);
    expect(tags(cluster, 'kes_cluster')).toHaveLength(1);
    expect(tags(cluster, 'internal_replication')).toEqual(['true']);
    const replicaBlocks = tags(cluster, 'replica');
    expect(replicaBlocks.map((b) => tags(b, 'host')[0])).toEqual(replicas);
    expect(replicaBlocks.map((b) => tags(b, 'port')[0])).toEqual(['9000', '9000']);
    const zk = tags(cluster, 'zookeeper')[0] ?? '';
    expect(tags(zk, 'host')).toEqual(['clickhouse-keeper']);
    expect(tags(zk, 'port')).toEqual([keeperPort]);

    const macros = replicas.map((name) => mountedFile(service(name), '/etc/clickhouse-server/config.d/macros.xml'));
    expect(macros.map((m) => tags(m, 'replica')[0])).toEqual(replicas);
    expect(new Set(macros.map((m) => tags(m, 'shard')[0])).size).toBe(1);
    expect(macros.map((m) => tags(m, 'cluster')[0])).toEqual(['kes_cluster', 'kes_cluster']);
    for (const name of replicas) {
      expect(service(name).hostname).toBe(name);
      expect(Object.keys(service(name).depends_on ?? {})).toContain('clickhouse-keeper');
      expect(portPairs(service(name)).map(([, c]) => c)).toEqual([8123, 9000]);
    }
  });

  it('mounts only files that exist', () => {
    for (const name of clusterServices) {
      for (const v of service(name).volumes ?? []) {
        const host = v.split(':')[0] ?? '';
        if (host.startsWith('.')) expect(existsSync(join(root, host)), `${name}: ${host}`).toBe(true);
      }
    }
  });

  it('is accepted by the installed compose client with the profile on', () => {
    const client = composeCommand();
    if (!client) expect.fail('neither `docker compose` nor `docker-compose` is installed');
    const result = spawnSync(
      client.command,
      [...client.args, '-f', composeFile, '--profile', 'cluster', 'config', '-q'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status, `${client.command} --profile cluster config -q:\n${result.stderr}`).toBe(0);
  });
});
