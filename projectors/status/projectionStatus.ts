import type { Admin, Kafka } from 'kafkajs';
import { categoryOfTopic } from '../../pipeline/events/streamName.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import type { ProjectionCatalog } from '../catalog/projectionCatalog.js';
import type { Projection } from '../readModels/projection.js';

export interface ProjectionStatus {
  projection: string;
  /** The version serving queries, or undefined before the first projector ran. */
  version: number | undefined;
  group: string | undefined;
  partitions: number;
  /** Records of the category topics not yet projected by the serving version (high watermark - committed). */
  lag: number;
  /** Append-to-visible time of the last event projected (the newest batch over all partitions), ms. */
  freshnessMs: number | undefined;
  /** Time since that batch was written, ms. */
  lastBatchAgeMs: number | undefined;
  deadLetters: number;
  /** A rebuild in progress: its version and how far it is. */
  rebuild: { version: number; doneEvents: number; targetEvents: number } | undefined;
}

export interface StatusSources {
  kafka: Kafka;
  catalog: ProjectionCatalog;
  topicPrefix: string;
  deadLetterPrefix: string;
}

/** What `kes projections status` prints, computed from Kafka (offsets) and ClickHouse (progress, versions). */
export async function projectionStatus(
  sources: StatusSources,
  projections: readonly Projection[],
): Promise<ProjectionStatus[]> {
  const admin = sources.kafka.admin();
  const watermarks = new HighWatermarks(sources.kafka);
  await admin.connect();
  try {
    await sources.catalog.ensureMetaTables();
    const allTopics = await admin.listTopics();
    const topics = allTopics.filter((t) => categoryOfTopic(sources.topicPrefix, t) !== undefined);
    const ends = new Map<string, Map<number, number>>();
    for (const topic of topics) ends.set(topic, await watermarks.of(topic));
    const out: ProjectionStatus[] = [];
    for (const projection of projections) {
      const serving = await sources.catalog.serving(projection.name);
      const partitions = [...ends.values()].reduce((n, m) => n + m.size, 0);
      let lag = 0;
      let freshnessMs: number | undefined;
      let lastBatchAgeMs: number | undefined;
      if (serving) {
        lag = await lagOf(admin, serving.group, ends);
        const progress = await sources.catalog.progress(projection.name, serving.version);
        const newest = progress.sort((a, b) => b.projectedAtMs - a.projectedAtMs)[0];
        if (newest) {
          freshnessMs = Math.max(0, newest.projectedAtMs - newest.eventTimeMs);
          lastBatchAgeMs = Math.max(0, Date.now() - newest.projectedAtMs);
        }
      }
      const building = (await sources.catalog.versions(projection.name)).filter(
        (v) => v.state === 'building' && v.version > (serving?.version ?? 0),
      );
      const latest = building[building.length - 1];
      out.push({
        projection: projection.name,
        version: serving?.version,
        group: serving?.group,
        partitions,
        lag,
        freshnessMs,
        lastBatchAgeMs,
        deadLetters: await countOf(admin, `${sources.deadLetterPrefix}${projection.name}`, allTopics),
        rebuild: latest
          ? { version: latest.version, doneEvents: latest.doneEvents, targetEvents: latest.targetEvents }
          : undefined,
      });
    }
    return out;
  } finally {
    await watermarks.close().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

/** Records between the group's committed offsets and the ends of the topics (all of them when nothing is committed). */
export async function lagOf(admin: Admin, group: string, ends: Map<string, Map<number, number>>): Promise<number> {
  if (ends.size === 0) return 0;
  const committed = await admin.fetchOffsets({ groupId: group, topics: [...ends.keys()] });
  let lag = 0;
  for (const { topic, partitions } of committed) {
    const end = ends.get(topic);
    if (!end) continue;
    for (const [partition, high] of end) {
      const offset = Number(partitions.find((p) => p.partition === partition)?.offset ?? -1);
      lag += Math.max(0, high - Math.max(0, offset));
    }
  }
  return lag;
}

async function countOf(admin: Admin, topic: string, allTopics: readonly string[]): Promise<number> {
  if (!allTopics.includes(topic)) return 0;
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Math.max(0, Number(p.high) - Number(p.low)), 0);
}
