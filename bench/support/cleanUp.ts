import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { type Admin, withAdmin } from './kafkaAdmin.js';
import { errorText } from './run.js';

export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  }
}

/**
 * Deletes what a run left behind: its topics (by prefix), consumer groups, Redis keys (by prefix), and whatever
 * `more` drops (databases). Goes on past a failure and throws every problem at the end.
 */
export async function cleanUpRun(args: {
  kafka: Kafka;
  topicPrefix: string;
  redis: Redis;
  redisPrefix: string;
  groups?: readonly string[];
  more?: () => Promise<string[]>;
}): Promise<void> {
  const problems: string[] = [];
  await withAdmin(args.kafka, async (admin: Admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(args.topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
    if (args.groups && args.groups.length > 0) {
      const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
      const groups = args.groups.filter((g) => existing.has(g));
      if (groups.length > 0) await admin.deleteGroups(groups).catch((e: unknown) => problems.push(errorText(e)));
    }
  }).catch((e: unknown) => problems.push(`topics: ${errorText(e)}`));
  if (args.more) problems.push(...(await args.more()));
  try {
    // a lazily connecting client (projector bench) may not have connected yet
    if (args.redis.status === 'wait') await args.redis.connect().catch(() => {});
    await deleteRedisKeys(args.redis, args.redisPrefix);
  } catch (e) {
    problems.push(`redis: ${errorText(e)}`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
}
