import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUpwards } from '../../devstack/findUpwards.js';
import { freePort } from '../processes/freePort.js';
import { GuardProcess } from '../processes/guardProcess.js';
import { KesProcess } from '../processes/kesProcess.js';
import { LossyProxy } from '../processes/lossyProxy.js';
import { uniqueName } from '../processes/names.js';
import { PrivateKafka } from '../processes/privateKafka.js';
import { PrivateRedis } from '../processes/privateRedis.js';

/**
 * Everything the soak runs and breaks, each of its own: a private Kafka broker, a private Redis and a private
 * ClickHouse process (`kes clickhouse serve`), so that killing them never disturbs the shared stack; guard and
 * projector processes on them; a lossy proxy in front of each guard. Only the schema registry is the shared one
 * (the soak never breaks it).
 */
export interface SoakServiceOptions {
  guards: number;
  projectors: number;
  schemaRegistryUrl: string;
  partitions: number;
  reservationMs: number;
  leaseMs: number;
  /** Where the services' data go (removed at the end unless kept). */
  log?: (line: string) => void;
}

export interface SoakServices {
  namespace: string;
  topicPrefix: string;
  kafka: PrivateKafka;
  redis: PrivateRedis;
  clickhouse: KesProcess;
  clickhouseUrl: string;
  guards: GuardProcess[];
  projectors: KesProcess[];
  /**
   * One in front of each guard: the lost-answers fault turns their drop share up and down. Every guard, because
   * clients stay with the guard that last answered them, so any one guard may have none of them at a given time.
   */
  proxies: LossyProxy[];
  /** What the clients are given: the proxies. */
  clientUrls: string[];
  /** The projectors' ClickHouse database and consumer-group prefix (the read-model check needs them). */
  database: string;
  groupPrefix: string;
  /** Guard, projector and ClickHouse processes: the watchdog restarts whichever died outside a fault. */
  processes(): KesProcess[];
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function startSoakServices(options: SoakServiceOptions): Promise<SoakServices> {
  const log = options.log ?? (() => {});
  const namespace = uniqueName('soak');
  const topicPrefix = `${namespace}.`;
  const redis = new PrivateRedis();
  const kafka = new PrivateKafka();
  const dataPath = mkdtempSync(join(tmpdir(), 'kes-soak-chdb-'));
  const clickhousePort = await freePort();
  const clickhouseUrl = `http://127.0.0.1:${clickhousePort}`;
  const clickhouse = new KesProcess(
    'clickhouse',
    ['clickhouse', 'serve', '--path', dataPath, '--port', String(clickhousePort)],
    `${clickhouseUrl}/ping`,
    {},
  );
  const guards: GuardProcess[] = [];
  const projectors: KesProcess[] = [];
  const proxies: LossyProxy[] = [];
  const stop = async () => {
    await Promise.all(proxies.map((p) => p.stop().catch(() => {})));
    await Promise.all([...guards, ...projectors].map((p) => p.stop().catch(() => {})));
    await clickhouse.stop().catch(() => {});
    await Promise.all([redis.stop().catch(() => {}), kafka.stop().catch(() => {})]);
    rmSync(dataPath, { recursive: true, force: true });
  };
  try {
    log('starting a private Redis, a private Kafka broker and a ClickHouse process');
    await Promise.all([redis.start({ aof: true }), kafka.start(), clickhouse.start()]);
    const guardEnv: Record<string, string> = {
      KAFKA_BROKERS: kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: options.schemaRegistryUrl,
      REDIS_URL: redis.url,
      KES_REDIS_PREFIX: `${namespace}:`,
      KES_TOPIC_PREFIX: topicPrefix,
      KES_TOPIC_PARTITIONS: String(options.partitions),
      KES_SCHEMAS_DIR: findUpwards('schemas', here),
      KES_GUARD_RESERVATION_MS: String(options.reservationMs),
      KES_GUARD_LEASE_MS: String(options.leaseMs),
    };
    for (let i = 0; i < options.guards; i++) {
      guards.push(new GuardProcess(`guard-${i}`, await freePort(), guardEnv));
    }
    log(`starting ${options.guards} guards`);
    // One after the other: the first builds the (empty) state, the others find it ready.
    for (const g of guards) await g.start();
    for (const g of guards) {
      const proxy = new LossyProxy(g.url, 0);
      await proxy.start();
      proxies.push(proxy);
    }
    const database = `${namespace}_rm`;
    const groupPrefix = `${namespace}.rm.`;
    const projectorEnv: Record<string, string> = {
      KAFKA_BROKERS: kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: options.schemaRegistryUrl,
      CLICKHOUSE_URL: clickhouseUrl,
      KES_TOPIC_PREFIX: topicPrefix,
      KES_CLICKHOUSE_DATABASE: database,
      KES_PROJECTOR_GROUP_PREFIX: groupPrefix,
      KES_DEADLETTER_PREFIX: `${namespace}.dlq.`,
      KES_LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < options.projectors; i++) {
      const port = await freePort();
      projectors.push(
        new KesProcess(
          `projector-${i}`,
          ['project', '--port', String(port)],
          `http://127.0.0.1:${port}/health/live`,
          projectorEnv,
        ),
      );
    }
    log(`starting ${options.projectors} projectors`);
    await Promise.all(projectors.map((p) => p.start()));
    const clientUrls = proxies.map((p) => p.url);
    return {
      namespace,
      topicPrefix,
      kafka,
      redis,
      clickhouse,
      clickhouseUrl,
      guards,
      projectors,
      proxies,
      clientUrls,
      database,
      groupPrefix,
      processes: () => [...guards, ...projectors, clickhouse],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
