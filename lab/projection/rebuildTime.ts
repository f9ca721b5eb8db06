import { PROJECTION } from '../../bench/projector/projectorRun.js';
import { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { ProjectorMetrics } from '../../projectors/metrics.js';
import { qualified } from '../../projectors/readModels/projection.js';
import { rebuildProjection } from '../../projectors/rebuild/rebuildProjection.js';
import type { LabProgress } from '../core/experiment.js';
import type { LabSpace } from './labSpace.js';
import { preloadTopic } from './preloadTopic.js';

export interface RebuildFigures {
  logSize: number;
  preloadSeconds: number;
  /** `kes projections rebuild`: a new version from offset 0 to the high watermarks, the swap and the old one dropped. */
  seconds: number;
  eventsPerSecond: number;
}

/**
 * Part 3: for each size, a log of its own (a fresh topic prefix pre-loaded with that many events) and a database
 * with the projection installed; then rebuildProjection, as `kes projections rebuild events` runs it, timed whole.
 * The rebuilt events view must hold the whole log. Each database is dropped after its rebuild.
 */
export async function measureRebuilds(args: {
  space: LabSpace;
  logSizes: readonly number[];
  partitions: number;
  runDir: string;
  progress: LabProgress;
  stepBase: number;
  stepTotal: number;
}): Promise<RebuildFigures[]> {
  const { space } = args;
  const engine = await space.engine();
  const figures: RebuildFigures[] = [];
  for (const [i, size] of args.logSizes.entries()) {
    const config = space.configFor(`log${i}`);
    args.progress.step(`pre-loading a log of ${size} events`, args.stepBase + 2 * i, args.stepTotal);
    const preloaded = await preloadTopic({
      space,
      config,
      events: size,
      partitions: args.partitions,
      runDir: args.runDir,
    });
    const database = config.KES_CLICKHOUSE_DATABASE;
    try {
      args.progress.step(
        `rebuilding the events projection from ${size} events`,
        args.stepBase + 2 * i + 1,
        args.stepTotal,
      );
      const catalog = new ProjectionCatalog(engine, database, config.KES_PROJECTOR_GROUP_PREFIX);
      const result = await rebuildProjection({
        kafka: space.kafka,
        catalog,
        projection: PROJECTION,
        settings: config,
        metrics: new ProjectorMetrics(),
        timeoutMs: 600_000,
      });
      const [counted] = await engine.query<{ n: number | string }>(
        `SELECT count() AS n FROM ${qualified(database, 'events')}`,
      );
      const inView = Number(counted?.n ?? 0);
      if (inView !== preloaded.events) {
        throw new Error(`the rebuilt events view of ${database} has ${inView} events, expected ${preloaded.events}`);
      }
      const f: RebuildFigures = {
        logSize: preloaded.events,
        preloadSeconds: preloaded.seconds,
        seconds: result.seconds,
        eventsPerSecond: preloaded.events / result.seconds,
      };
      figures.push(f);
      args.progress.note(
        `log of ${size} events rebuilt in ${f.seconds.toFixed(2)} s = ${Math.round(f.eventsPerSecond)} events/s`,
      );
    } finally {
      await space.dropDatabase(database).catch(() => {});
    }
  }
  return figures;
}
