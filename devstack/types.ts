import type { KesConfig } from '../pipeline/config/config.js';

/** Where the rest of kes finds the stack; written to `<KES_HOME>/stack.env` under these env names. */
export interface StackAddresses {
  /** KAFKA_BROKERS */
  kafkaBrokers: string[];
  /** SCHEMA_REGISTRY_URL: base of the Confluent-compatible API */
  schemaRegistryUrl: string;
  /** REDIS_URL */
  redisUrl: string;
  /** CLICKHOUSE_URL: a server new enough for the read models (>= 23.8); unset means the embedded engine */
  clickhouseUrl?: string | undefined;
  /** KES_CLICKHOUSE_SERVER_URL: any ClickHouse server the stack runs, for the HTTP client path */
  clickhouseServerUrl?: string | undefined;
  /** CLICKHOUSE_EMBEDDED_PATH: data path of the embedded engine */
  clickhouseEmbeddedPath: string;
  /** POSTGRES_URL: the stack's PostgreSQL, database `kes` (the lab's reference event store); unset when not run */
  postgresUrl?: string | undefined;
}

export function addressesToEnv(a: StackAddresses): Record<string, string | undefined> {
  return {
    KAFKA_BROKERS: a.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: a.schemaRegistryUrl,
    REDIS_URL: a.redisUrl,
    CLICKHOUSE_URL: a.clickhouseUrl,
    KES_CLICKHOUSE_SERVER_URL: a.clickhouseServerUrl,
    CLICKHOUSE_EMBEDDED_PATH: a.clickhouseEmbeddedPath,
    POSTGRES_URL: a.postgresUrl,
  };
}

export function addressesFromConfig(config: KesConfig): StackAddresses {
  return {
    kafkaBrokers: [...config.KAFKA_BROKERS],
    schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
    redisUrl: config.REDIS_URL,
    clickhouseUrl: config.CLICKHOUSE_URL,
    clickhouseServerUrl: config.KES_CLICKHOUSE_SERVER_URL,
    clickhouseEmbeddedPath: config.CLICKHOUSE_EMBEDDED_PATH,
    postgresUrl: config.POSTGRES_URL,
  };
}

/** The services docker-compose.yml runs, and the local stack too. */
export type ServiceName = 'kafka' | 'registry' | 'redis' | 'clickhouse' | 'postgres';
export const serviceNames: readonly ServiceName[] = ['kafka', 'registry', 'redis', 'clickhouse', 'postgres'];

/**
 * The local stack's services: those of the compose file plus `clickhouse-embedded`, the process that owns the
 * embedded engine's data path and serves it (`kes clickhouse serve`). Docker mode has a real ClickHouse server.
 */
export type LocalServiceName = ServiceName | 'clickhouse-embedded' | KafkaNodeName | RedisGroupName;
/** Replicas and sentinels of `--redis-replicas N`; `--only redis` means the whole group. */
export type RedisGroupName = `redis-replica-${number}` | `redis-sentinel-${number}`;
/** Nodes 2..N of a local Kafka cluster; node 1 is `kafka`. `--only kafka` means every node. */
export type KafkaNodeName = 'kafka' | `kafka-${number}`;
export const localServiceNames: readonly LocalServiceName[] = [...serviceNames, 'clickhouse-embedded'];

export function isKafkaNode(name: string): boolean {
  return name === 'kafka' || /^kafka-\d+$/.test(name);
}

export type ServiceState = 'up' | 'starting' | 'down' | 'absent';

/** One row of `kes stack status`. */
export interface ServiceStatus {
  service: LocalServiceName;
  state: ServiceState;
  address: string;
  pid?: number | undefined;
  version?: string | undefined;
  note?: string | undefined;
}

/** The minimum ClickHouse server version the read models' SQL targets. */
export const MIN_CLICKHOUSE_SERVER = [23, 8] as const;

export function isModernClickHouse(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MIN_CLICKHOUSE_SERVER[0] || (major === MIN_CLICKHOUSE_SERVER[0] && minor >= MIN_CLICKHOUSE_SERVER[1]);
}
