import { join } from 'node:path';
import { consumeAll } from '../../bench/projector/consume.js';
import { TimedEngine } from '../../bench/projector/engines.js';
import { PROJECTION } from '../../bench/projector/projectorRun.js';
import { CpuMeter } from '../../bench/support/cpuMeter.js';
import { ProjectionCatalog } from '../../projectors/catalog/projectionCatalog.js';
import { qualified, versioned } from '../../projectors/readModels/projection.js';
import type { LabProgress } from '../core/experiment.js';
import type { LabSpace } from './labSpace.js';
import type { BatchSetting } from './plan.js';
import type { Preloaded } from './preloadTopic.js';

export interface BatchFigures extends BatchSetting {
  /** Distinct events projected (the pre-load). */
  events: number;
  /** Rows the projector wrote: more than `events` when a batch was replayed (a consumer restarted or rebalanced). */
  rowsWritten: number;
  seconds: number;
  eventsPerSecond: number;
  joinSeconds: number;
  inserts: number;
  meanRowsPerInsert: number;
  meanInsertMs: number;
}

/**
 * Part 1: the Projector over the pre-loaded topic once per batch setting, each time on a fresh consumer group and
 * database, timed from start() to every partition at its end (bench:projector's clickhouse phase); the events view
 * must then hold every event. Each database is dropped after its consume, so the runs do not fill the engine.
 */
export async function measureBatches(args: {
  space: LabSpace;
  preloaded: Preloaded;
  settings: readonly BatchSetting[];
  runDir: string;
  progress: LabProgress;
  /** Number of steps before these, for the progress bar. */
  stepBase: number;
  stepTotal: number;
}): Promise<BatchFigures[]> {
  const { space, preloaded } = args;
  const engine = await space.engine();
  const figures: BatchFigures[] = [];
  for (const [i, setting] of args.settings.entries()) {
    args.progress.step(
      `projecting ${preloaded.events} events, batch ${setting.rows} rows / ${setting.ms} ms`,
      args.stepBase + i,
      args.stepTotal,
    );
    // The consume reads the pre-loaded topic (part "load"); its groups and database are its own.
    const part = `batch${i}`;
    const config = space.configFor(part, {
      KES_PROJECTOR_BATCH_ROWS: setting.rows,
      KES_PROJECTOR_BATCH_MS: setting.ms,
      KES_TOPIC_PREFIX: preloaded.topic.slice(0, preloaded.topic.length - space.category.length),
    });
    const database = config.KES_CLICKHOUSE_DATABASE;
    try {
      const timed = new TimedEngine(engine, versioned(database, PROJECTION.sinkTable, 1));
      const catalog = new ProjectionCatalog(timed, database, config.KES_PROJECTOR_GROUP_PREFIX);
      const serving = await catalog.install(PROJECTION);
      const r = await consumeAll({
        label: `batch ${setting.rows} rows / ${setting.ms} ms`,
        kafka: space.kafka,
        engine: timed,
        catalog,
        version: serving.version,
        group: serving.group,
        topic: preloaded.topic,
        ends: preloaded.ends,
        config,
        cpu: new CpuMeter(() => []),
        idleBefore: undefined,
        profiler: undefined,
        profileFile: join(args.runDir, `${part}.cpuprofile`),
        timeoutMs: 600_000,
      });
      const [counted] = await engine.query<{ n: number | string }>(
        `SELECT count() AS n FROM ${qualified(database, 'events')}`,
      );
      const inView = Number(counted?.n ?? 0);
      if (inView !== preloaded.events) {
        throw new Error(`the events view of ${database} has ${inView} events, expected ${preloaded.events}`);
      }
      const f: BatchFigures = {
        ...setting,
        // Per distinct event: a replayed batch is work done twice, not throughput.
        events: preloaded.events,
        rowsWritten: r.events,
        seconds: r.seconds,
        eventsPerSecond: preloaded.events / r.seconds,
        joinSeconds: r.joinSeconds,
        inserts: r.inserts,
        meanRowsPerInsert: r.meanRowsPerInsert,
        meanInsertMs: r.meanInsertMs,
      };
      figures.push(f);
      args.progress.note(
        `batch ${setting.rows} rows / ${setting.ms} ms: ${Math.round(f.eventsPerSecond)} events/s, ${f.rowsWritten} rows written in ${f.inserts} inserts of ` +
          `${Math.round(f.meanRowsPerInsert)} rows, ${Math.round(f.meanInsertMs)} ms each`,
      );
    } finally {
      await space.dropDatabase(database).catch(() => {});
    }
  }
  return figures;
}
