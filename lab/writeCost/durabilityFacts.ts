import type { Redis } from 'ioredis';
import kafkajs, { type Kafka } from 'kafkajs';
import { withAdmin } from '../../bench/support/kafkaAdmin.js';
import type { PostgresMessageStore } from '../postgres/messageStore.js';
import type { DurabilityFacts } from './durability.js';

// kafkajs is CommonJS: its enums come through the default export under Node's ESM loader
const { ConfigResourceTypes } = kafkajs;

/** Reads the durability settings from the running services (never assumed: the stack's may differ from production). */
export async function readDurabilityFacts(args: {
  kafka: Kafka;
  /** A topic the run wrote: its replication factor and flush setting. */
  topic: string;
  redis: Redis;
  postgres: PostgresMessageStore | undefined;
}): Promise<DurabilityFacts> {
  const kafka = await withAdmin(args.kafka, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [args.topic] });
    const replication = topics[0]?.partitions[0]?.replicas.length ?? Number.NaN;
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: args.topic, configNames: ['flush.messages'] }],
    });
    const flushMessages = described.resources[0]?.configEntries.find(
      (e) => e.configName === 'flush.messages',
    )?.configValue;
    return { replication, flushMessages };
  });
  const config = async (name: string) => {
    const answer = (await args.redis.config('GET', name)) as string[];
    return answer[1] ?? 'unknown';
  };
  const redis = { appendonly: await config('appendonly'), appendfsync: await config('appendfsync') };
  let postgres: DurabilityFacts['postgres'];
  if (args.postgres) {
    const show = async (name: string) =>
      String((await args.postgres?.query<Record<string, string>>(`SHOW ${name}`))?.rows[0]?.[name] ?? 'unknown');
    postgres = { synchronousCommit: await show('synchronous_commit'), fsync: await show('fsync') };
  }
  return { kafka, redis, postgres };
}
