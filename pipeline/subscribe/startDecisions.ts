import type { Kafka } from 'kafkajs';
import type { StartFrom } from './position.js';
import { startOffset } from './startOffsets.js';

export interface StartDecision {
  topic: string;
  partition: number;
  /** The group's committed offset, when it has one. */
  committed: number | undefined;
  /** The first offset to deliver, to be committed at once (startOffsets.ts); undefined: resume where the group is. */
  start: number | undefined;
}

/**
 * Reads what `startOffset` needs for each partition just assigned (the group's committed offsets, the partitions'
 * bounds) and returns its decisions. Reading only: the subscription commits the starts.
 */
export async function decideStarts(
  kafka: Kafka,
  group: string,
  from: StartFrom,
  assignment: Record<string, number[]>,
): Promise<StartDecision[]> {
  const topics = Object.keys(assignment).filter((t) => (assignment[t] ?? []).length > 0);
  if (topics.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const decisions: StartDecision[] = [];
    const committed = await admin.fetchOffsets({ groupId: group, topics });
    for (const topic of topics) {
      const bounds = from === 'start' ? [] : await admin.fetchTopicOffsets(topic).catch(() => undefined);
      if (bounds === undefined) throw new Error(`cannot read the offsets of ${topic}`);
      for (const partition of assignment[topic] ?? []) {
        const c = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition);
        const offset = c ? Number(c.offset) : -1;
        const b = bounds.find((p) => p.partition === partition);
        const known = offset >= 0 ? offset : undefined;
        const start = startOffset(from, {
          topic,
          partition,
          committed: known,
          low: Number(b?.low ?? 0),
          high: Number(b?.high ?? 0),
        });
        decisions.push({ topic, partition, committed: known, start });
      }
    }
    return decisions;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
