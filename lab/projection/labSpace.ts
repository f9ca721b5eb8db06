import { createHash } from 'node:crypto';
import { type Kafka, logLevel } from 'kafkajs';
import { cleanUpRun } from '../../bench/support/cleanUp.js';
import { withAdmin } from '../../bench/support/kafkaAdmin.js';
import { errorText } from '../../bench/support/run.js';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { openEngine } from '../../pipeline/clickhouse/openEngine.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { createRedis } from '../../pipeline/redis/redisClient.js';
import { quote } from '../../projectors/readModels/projection.js';
import { uniqueName } from '../../verify/processes/names.js';

/**
 * Everything one run of the projection experiment makes lives under one random namespace: topics, consumer groups
 * and dead letters `<ns>.<part>.…`, Redis keys `<ns>:`, ClickHouse databases `<ns>_<part>`. `cleanUp` deletes them
 * all, whatever part of the run got that far.
 */
export class LabSpace {
  readonly namespace = uniqueName('lab_projection');
  /** The category of every event the run writes; random, so no stream name is shared with anything else. */
  readonly category = `account_${createHash('sha1').update(this.namespace).digest('hex').slice(0, 6)}`;
  readonly kafka: Kafka;
  private readonly databases = new Set<string>();
  private engineOpening: Promise<ClickHouseEngine> | undefined;

  constructor(
    readonly base: KesConfig,
    private readonly partitions: number,
  ) {
    this.kafka = createKafka(base, `kes-lab-projection-${this.namespace}`, { logLevel: logLevel.NOTHING });
  }

  /** The settings of one part: its own topic prefix, groups, dead letters and database. */
  configFor(part: string, more: Partial<KesConfig> = {}): KesConfig {
    const database = `${this.namespace}_${part}`;
    this.databases.add(database);
    return {
      ...this.base,
      KES_TOPIC_PREFIX: `${this.namespace}.${part}.`,
      KES_PROJECTOR_GROUP_PREFIX: `${this.namespace}.${part}.projector.`,
      KES_DEADLETTER_PREFIX: `${this.namespace}.${part}.deadletter.`,
      KES_CLICKHOUSE_DATABASE: database,
      KES_REDIS_PREFIX: `${this.namespace}:`,
      KES_TOPIC_PARTITIONS: this.partitions,
      ...more,
    };
  }

  /** The stack's read-model engine (the embedded one through its owner, or CLICKHOUSE_URL), opened once. */
  engine(): Promise<ClickHouseEngine> {
    this.engineOpening ??= openEngine(this.base);
    return this.engineOpening;
  }

  async dropDatabase(database: string): Promise<void> {
    const engine = await this.engine();
    await engine.command(`DROP DATABASE IF EXISTS ${quote(database)}`);
  }

  /** Deletes the run's topics, consumer groups, Redis keys and databases; throws every problem at the end. */
  async cleanUp(): Promise<void> {
    const redis = createRedis(this.base, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => {});
    try {
      const groups = await withAdmin(this.kafka, async (admin) =>
        (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${this.namespace}.`)),
      ).catch(() => [] as string[]);
      await cleanUpRun({
        kafka: this.kafka,
        topicPrefix: `${this.namespace}.`,
        redis,
        redisPrefix: `${this.namespace}:`,
        groups,
        more: async () => {
          if (!this.engineOpening) return [];
          const problems: string[] = [];
          for (const db of this.databases)
            await this.dropDatabase(db).catch((e: unknown) => problems.push(errorText(e)));
          return problems;
        },
      });
    } finally {
      redis.disconnect();
      const engine = await this.engineOpening?.catch(() => undefined);
      await engine?.close().catch(() => {});
    }
  }
}
