/**
 * Testcontainers path of the test harness. It is used ONLY when a Docker engine answers (see
 * `dockerEngineAnswers()` in devstack/dockerStack.ts); without one the harness uses the local-process
 * stack instead, so this file cannot be exercised on machines without Docker.
 *
 * Images and container environments are read from docker-compose.yml, so `kes stack up` in Docker mode and
 * the tests run the same versions with the same settings. Host ports are random here: tests must not collide
 * with a stack the developer already has running on the default ports.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { parse } from 'yaml';
import type { ServiceName, StackAddresses } from '../../devstack/types.js';
import { setGlobalCompatibility } from '../../pipeline/registry/compatibility.js';
import { freePort } from '../support/freePort.js';

const composeFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docker-compose.yml');

/** Container-side ports, as in docker-compose.yml. */
const KAFKA_INTERNAL = 29092;
const KAFKA_EXTERNAL = 19092;
const REGISTRY_HTTP = 8080;
const REDIS = 6379;
const CLICKHOUSE_HTTP = 8123;
const POSTGRES = 5432;

const STARTUP_TIMEOUT_MS = 180_000;

/** The stack's default (KES_REGISTRY_COMPATIBILITY), so tests see the same schema evolution rules. */
const COMPATIBILITY = 'BACKWARD';

interface ComposeService {
  image: string;
  environment: Record<string, string>;
}

function composeServices(): Record<ServiceName, ComposeService> {
  const doc = parse(readFileSync(composeFile, 'utf8')) as { services?: Record<string, unknown> };
  const service = (name: ServiceName): ComposeService => {
    const raw = doc.services?.[name] as { image?: unknown; environment?: unknown } | undefined;
    if (typeof raw?.image !== 'string') throw new Error(`${composeFile}: service ${name} has no image`);
    const env = raw.environment ?? {};
    // The map form is what docker-compose.yml uses; the list form (KEY=VALUE) would need its own parser.
    if (Array.isArray(env) || typeof env !== 'object') {
      throw new Error(`${composeFile}: service ${name} environment must be a map`);
    }
    const environment = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
    return { image: raw.image, environment };
  };
  return {
    kafka: service('kafka'),
    registry: service('registry'),
    redis: service('redis'),
    clickhouse: service('clickhouse'),
    postgres: service('postgres'),
  };
}

/**
 * Kafka hands clients the advertised address, so it must be known before the broker starts: a mapped port
 * chosen by Docker would only be known after. We pick the host port ourselves, bind the EXTERNAL listener to
 * it, and advertise it; other containers use the INTERNAL listener through the network alias `kafka`.
 */
function kafkaContainer(spec: ComposeService, network: StartedNetwork, host: string, hostPort: number) {
  return new GenericContainer(spec.image)
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withEnvironment({
      ...spec.environment,
      KAFKA_ADVERTISED_LISTENERS: `INTERNAL://kafka:${KAFKA_INTERNAL},EXTERNAL://${host}:${hostPort}`,
    })
    .withExposedPorts({ container: KAFKA_EXTERNAL, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
}

function registryContainer(spec: ComposeService, network: StartedNetwork) {
  return new GenericContainer(spec.image)
    .withNetwork(network)
    .withEnvironment(spec.environment)
    .withExposedPorts(REGISTRY_HTTP)
    .withWaitStrategy(Wait.forHttp('/health/ready', REGISTRY_HTTP).forStatusCode(200))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
}

function redisContainer(spec: ComposeService, network: StartedNetwork) {
  // docker-compose.yml interpolates the fsync policy from the environment; tests use the stack default.
  return new GenericContainer(spec.image)
    .withNetwork(network)
    .withCommand(['redis-server', '--appendonly', 'yes', '--appendfsync', 'everysec'])
    .withExposedPorts(REDIS)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
}

function clickhouseContainer(spec: ComposeService, network: StartedNetwork) {
  return new GenericContainer(spec.image)
    .withNetwork(network)
    .withEnvironment(spec.environment)
    .withUlimits({ nofile: { soft: 262144, hard: 262144 } })
    .withExposedPorts(CLICKHOUSE_HTTP)
    .withWaitStrategy(Wait.forHttp('/ping', CLICKHOUSE_HTTP).forStatusCode(200))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
}

function postgresContainer(spec: ComposeService, network: StartedNetwork) {
  // The image's entrypoint logs "ready to accept connections" twice: once for its init server, then for the real one.
  return new GenericContainer(spec.image)
    .withNetwork(network)
    .withEnvironment(spec.environment)
    .withExposedPorts(POSTGRES)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
}

/**
 * Starts containers in parallel, recording every one that started in `started` even when another fails, so
 * the caller can stop them all instead of leaving them to the reaper.
 */
async function startTogether<T extends readonly GenericContainer[]>(
  started: StartedTestContainer[],
  containers: T,
): Promise<{ [K in keyof T]: StartedTestContainer }> {
  const results = await Promise.allSettled(containers.map((c) => c.start()));
  const values: StartedTestContainer[] = [];
  let failure: unknown;
  for (const result of results) {
    if (result.status === 'fulfilled') {
      started.push(result.value);
      values.push(result.value);
    } else {
      failure ??= result.reason;
    }
  }
  if (failure !== undefined) throw failure;
  return values as { [K in keyof T]: StartedTestContainer };
}

export async function startContainers(): Promise<{ addresses: StackAddresses; stop(): Promise<void> }> {
  const compose = composeServices();
  // Docker may run elsewhere (Docker Desktop VM, DOCKER_HOST): published ports live on its host, not ours.
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const network = await new Network().start();
  const started: StartedTestContainer[] = [];
  const chdbPath = mkdtempSync(join(tmpdir(), 'kes-test-chdb-'));

  const stop = async (): Promise<void> => {
    // Registry first: it is a Kafka client and would otherwise log connection errors while Kafka goes away.
    const [first, ...rest] = [...started].reverse();
    const results = [
      ...(first ? await Promise.allSettled([first.stop()]) : []),
      ...(await Promise.allSettled(rest.map((c) => c.stop()))),
      ...(await Promise.allSettled([network.stop()])),
    ];
    rmSync(chdbPath, { recursive: true, force: true });
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (errors.length > 0) throw new AggregateError(errors, 'stopping test containers failed');
  };

  try {
    const kafkaPort = await freePort();
    // Kafka's address is the one chosen above, so its started container is not needed here.
    const [, redis, clickhouse, postgres] = await startTogether(started, [
      kafkaContainer(compose.kafka, network, host, kafkaPort),
      redisContainer(compose.redis, network),
      clickhouseContainer(compose.clickhouse, network),
      postgresContainer(compose.postgres, network),
    ] as const);
    const [registry] = await startTogether(started, [registryContainer(compose.registry, network)] as const);

    const clickhouseUrl = `http://${clickhouse.getHost()}:${clickhouse.getMappedPort(CLICKHOUSE_HTTP)}`;
    const addresses: StackAddresses = {
      kafkaBrokers: [`${host}:${kafkaPort}`],
      schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(REGISTRY_HTTP)}/apis/ccompat/v7`,
      redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(REDIS)}`,
      clickhouseUrl,
      clickhouseServerUrl: clickhouseUrl,
      clickhouseEmbeddedPath: chdbPath,
      postgresUrl: `postgres://kes@${postgres.getHost()}:${postgres.getMappedPort(POSTGRES)}/kes`,
    };
    await setGlobalCompatibility(addresses.schemaRegistryUrl, COMPATIBILITY);
    return { addresses, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
