import type { Kafka } from 'kafkajs';
import { categoryOfTopic } from '../../pipeline/events/streamName.js';
import { HighWatermarks } from '../../pipeline/kafka/highWatermarks.js';
import { assertReadCommittedPatched } from '../../pipeline/kafka/readCommittedPatch.js';
import type { ProjectionCatalog } from '../catalog/projectionCatalog.js';
import type { ProjectorMetrics } from '../metrics.js';
import type { Projection } from '../readModels/projection.js';
import { DeadLetterSink } from '../run/deadLetterSink.js';
import { EventDecoder } from '../run/eventDecoder.js';
import { Projector } from '../run/projector.js';
import type { ProjectorSettings } from '../run/projectorService.js';

export interface RebuildOptions {
  kafka: Kafka;
  catalog: ProjectionCatalog;
  projection: Projection;
  settings: ProjectorSettings;
  metrics: ProjectorMetrics;
  onProgress?: ((done: number, target: number) => void) | undefined;
  log?: ((line: string) => void) | undefined;
  /** Give up if the new version has not caught up by then. @default 3600000 */
  timeoutMs?: number;
}

export interface RebuildResult {
  from: number | undefined;
  to: number;
  events: number;
  seconds: number;
}

/**
 * Builds a new version of a projection from offset 0 while the serving version keeps answering, then swaps.
 *
 * The new version gets a number never used before, empty tables and a consumer group of its own. It is filled up
 * to the high watermarks taken at the start; then every serving view is exchanged atomically to the new tables
 * and the pointer moves, and running projectors follow within their poll interval, continuing the new group from
 * the offsets the rebuild committed. The old version's tables are dropped once its group has no members left.
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  assertReadCommittedPatched();
  const { kafka, catalog, projection, settings } = options;
  const started = Date.now();
  const before = await catalog.install(projection);
  const admin = kafka.admin();
  const watermarks = new HighWatermarks(kafka);
  await admin.connect();
  let projector: Projector | undefined;
  try {
    const topics = (await admin.listTopics())
      .filter((t) => categoryOfTopic(settings.KES_TOPIC_PREFIX, t) !== undefined)
      .sort();
    const targets = new Map<string, number>();
    for (const topic of topics) {
      for (const [partition, end] of await watermarks.of(topic)) targets.set(`${topic}|${partition}`, end);
    }
    const target = [...targets.values()].reduce((n, v) => n + v, 0);
    const next = await catalog.beginVersion(projection, target);
    options.log?.(
      `rebuilding ${projection.name} as version ${next.version} (serving: ${before.version}) over ${targets.size} partitions, ${target} records`,
    );

    const reached = new Map<string, number>();
    const done = () => [...targets].every(([key, end]) => (reached.get(key) ?? 0) >= end);
    const doneCount = () => [...targets].reduce((n, [key, end]) => n + Math.min(end, reached.get(key) ?? 0), 0);
    let finish: () => void = () => {};
    let fail: (error: unknown) => void = () => {};
    const caughtUp = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    let lastRecorded = 0;
    projector = new Projector({
      kafka,
      engine: catalog.engine,
      catalog,
      projection,
      version: next.version,
      group: next.group,
      topics,
      decoder: new EventDecoder(settings.SCHEMA_REGISTRY_URL, settings.KES_TOPIC_PREFIX),
      deadLetters: new DeadLetterSink(kafka, `${settings.KES_DEADLETTER_PREFIX}${projection.name}`, projection.name),
      metrics: options.metrics,
      batchRows: settings.KES_PROJECTOR_BATCH_ROWS,
      batchMs: settings.KES_PROJECTOR_BATCH_MS,
      fetchBytes: settings.KES_PROJECTOR_FETCH_BYTES,
      sessionTimeoutMs: settings.KES_PROJECTOR_SESSION_TIMEOUT_MS,
      log: options.log,
      onCrash: (error) => fail(error),
      onFlushed: (flushed) => {
        for (const f of flushed) {
          const key = `${f.topic}|${f.partition}`;
          reached.set(key, Math.max(reached.get(key) ?? 0, f.nextOffset));
        }
        options.onProgress?.(doneCount(), target);
        if (Date.now() - lastRecorded > 1_000) {
          lastRecorded = Date.now();
          void catalog
            .recordVersion(projection.name, {
              version: next.version,
              group: next.group,
              state: 'building',
              targetEvents: target,
              doneEvents: doneCount(),
            })
            .catch(() => {});
        }
        if (done()) finish();
      },
    });
    if (topics.length > 0 && !done()) {
      await projector.start();
      const timeoutMs = options.timeoutMs ?? 3_600_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        caughtUp,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`rebuild not caught up after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    await projector.stop();
    projector = undefined;

    await catalog.swap(projection, next.version);
    await catalog.recordVersion(projection.name, {
      version: next.version,
      group: next.group,
      state: 'serving',
      targetEvents: target,
      doneEvents: target,
    });
    options.log?.(`swapped ${projection.name} to version ${next.version}`);
    await retire(kafka, catalog, projection, before.version, before.group, options.log);
    return { from: before.version, to: next.version, events: target, seconds: (Date.now() - started) / 1000 };
  } finally {
    await projector?.stop().catch(() => {});
    await watermarks.close().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

/** Drops the old version once no projector writes it any more (its group is empty), or leaves it for later. */
async function retire(
  kafka: Kafka,
  catalog: ProjectionCatalog,
  projection: Projection,
  version: number,
  group: string,
  log?: (line: string) => void,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { groups } = await admin.describeGroups([group]);
      const members = groups[0]?.members.length ?? 0;
      if (members === 0) break;
      if (Date.now() > deadline) {
        log?.(`version ${version} still has ${members} consumer(s) in ${group}; its tables are kept`);
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await catalog.dropVersion(projection, version);
    await catalog.recordVersion(projection.name, { version, group, state: 'retired', targetEvents: 0, doneEvents: 0 });
    await admin.deleteGroups([group]).catch(() => {});
    log?.(`dropped version ${version} of ${projection.name}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
