import type { Admin } from 'kafkajs';
import { categoryOfTopic, topicOf } from '../pipeline/events/streamName.js';

/**
 * One topic per category, created on the first append with infinite retention: the topics are the log of record,
 * so nothing may ever expire out of them. The partition count is read from the broker, never assumed, because a
 * stream's partition (and so its Redis keys) follows from it. Adding partitions to a category topic later would
 * move streams between partitions: kes refuses to run on a topic whose count changed under it (see docs/guard.md).
 */
export interface TopicSettings {
  prefix: string;
  partitions: number;
  replication: number;
}

export class TopicDirectory {
  private readonly counts = new Map<string, Promise<number>>();

  constructor(
    private readonly admin: Admin,
    private readonly settings: TopicSettings,
  ) {}

  topicOf(category: string): string {
    return topicOf(this.settings.prefix, category);
  }

  /** Partition count of the category's topic, creating the topic if it does not exist yet. */
  partitionsOf(category: string): Promise<number> {
    const topic = this.topicOf(category);
    let count = this.counts.get(topic);
    if (!count) {
      count = this.ensure(topic);
      this.counts.set(topic, count);
      count.catch(() => this.counts.delete(topic));
    }
    return count;
  }

  /** Partition count of the category's topic, or undefined when it does not exist (nothing was ever written). */
  async existingPartitionsOf(category: string): Promise<number | undefined> {
    const topic = this.topicOf(category);
    const known = this.counts.get(topic);
    if (known) return known;
    if (!(await this.admin.listTopics()).includes(topic)) return undefined;
    return this.partitionsOf(category);
  }

  /** Every category topic on the broker, with its partition count. */
  async all(): Promise<{ topic: string; category: string; partitions: number }[]> {
    const names = (await this.admin.listTopics()).filter((t) => categoryOfTopic(this.settings.prefix, t));
    if (names.length === 0) return [];
    const { topics } = await this.admin.fetchTopicMetadata({ topics: names });
    return topics.map((t) => ({
      topic: t.name,
      category: categoryOfTopic(this.settings.prefix, t.name) ?? '',
      partitions: t.partitions.length,
    }));
  }

  private async ensure(topic: string): Promise<number> {
    await this.admin
      .createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: this.settings.partitions,
            replicationFactor: this.settings.replication,
            configEntries: [
              { name: 'retention.ms', value: '-1' },
              { name: 'retention.bytes', value: '-1' },
              { name: 'cleanup.policy', value: 'delete' },
            ],
          },
        ],
      })
      .catch((error: unknown) => {
        // Another guard created it first: fine, its count is read below.
        if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
      });
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const count = topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions`);
    return count;
  }
}
