import type { Kafka } from 'kafkajs';
import { sleep } from './run.js';

export type Admin = ReturnType<Kafka['admin']>;

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic; one that exists already is fine. */
export async function ensureTopic(
  kafka: Kafka,
  topic: string,
  partitions: number,
  replication: number,
  configEntries?: { name: string; value: string }[],
): Promise<void> {
  await withAdmin(kafka, (admin) =>
    admin
      .createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor: replication,
            ...(configEntries ? { configEntries } : {}),
          },
        ],
      })
      .then(
        () => {},
        (error: unknown) => {
          if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
        },
      ),
  );
}

/** High watermark per partition: where a reader that has read everything committed stands. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  // A topic its first append just created may not have its leaders yet (NOT_LEADER_FOR_PARTITION): ask again.
  for (let attempt = 1; ; attempt++) {
    try {
      const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    } catch (error) {
      if (attempt >= 10 || (error as { retriable?: boolean }).retriable !== true) throw error;
      await sleep(300);
    }
  }
}

export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const { topics } = await withAdmin(kafka, (admin) => admin.fetchTopicMetadata({ topics: [topic] }));
  return topics[0]?.partitions.length ?? 0;
}

/** Deletes those of `topics` that exist. */
export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  });
}
