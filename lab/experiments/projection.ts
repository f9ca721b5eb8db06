import { cpus, loadavg } from 'node:os';
import type { Experiment, LabContext, LabResult } from '../core/experiment.js';
import { measureBatches } from '../projection/batchThroughput.js';
import { type LoadGuard, measureFreshness, startLoadGuard } from '../projection/freshnessUnderLoad.js';
import { LabSpace } from '../projection/labSpace.js';
import { batchSettings, projectionPlan } from '../projection/plan.js';
import { preloadTopic } from '../projection/preloadTopic.js';
import { projectionCharts, projectionReading, projectionTables } from '../projection/projectionReport.js';
import { measureRebuilds } from '../projection/rebuildTime.js';

/**
 * The query side's trade-offs (docs/projectors.md): what batch size and batch time buy in projector events/s over a
 * backlog, how fresh the read model stays under a steady guarded load, and how long a rebuild from the log takes
 * as the log grows. Reuses bench:projector's pre-load and consume, and the rebuild `kes projections rebuild` runs.
 */
export const projection: Experiment = {
  name: 'projection',
  title: 'Projection: throughput by batch, freshness under load, rebuild time by log size',
  summary: 'projector events/s against batch size and time, freshness against load, rebuild time against log size',
  options: [
    { name: 'events', description: 'events pre-loaded for the batch measurements', full: '200000', quick: '20000' },
    {
      name: 'batch-sizes',
      description: 'KES_PROJECTOR_BATCH_ROWS values (rows per insert), at the configured batch time',
      full: '100,1000,10000',
      quick: '100,1000',
    },
    {
      name: 'batch-times',
      description: 'KES_PROJECTOR_BATCH_MS values (ms), at the largest batch size',
      full: '50,250,1000',
      quick: '50,250',
    },
    { name: 'rates', description: 'guarded appends/s of the freshness load', full: '100,1000,5000', quick: '100,1000' },
    { name: 'load-seconds', description: 'measured seconds of load per rate', full: '10', quick: '4' },
    {
      name: 'log-sizes',
      description: 'events in the log rebuilt from',
      full: '10000,100000,1000000',
      quick: '5000,20000',
    },
    { name: 'partitions', description: 'partitions of every category topic', full: '12', quick: '12' },
  ],
  check: (option) => {
    projectionPlan(option);
  },
  async run(ctx: LabContext): Promise<LabResult> {
    const plan = projectionPlan(ctx.option);
    const defaultBatchMs = ctx.config.KES_PROJECTOR_BATCH_MS;
    const settings = batchSettings(plan, defaultBatchMs);
    const total = 1 + settings.length + 1 + plan.rates.length + 2 * plan.logSizes.length;
    const space = new LabSpace(ctx.config, plan.partitions);
    let loadAverage = loadavg()[0] ?? 0;
    const loadWatch = setInterval(() => {
      loadAverage = Math.max(loadAverage, loadavg()[0] ?? 0);
    }, 5_000);
    ctx.progress.note(`namespace ${space.namespace} (topics, groups, Redis keys, databases; deleted at the end)`);
    let guard: LoadGuard | undefined;
    try {
      // The freshness part's guard starts now: its start-up overlaps the pre-load, and an idle guard costs nothing.
      guard = await startLoadGuard({ space, root: ctx.root, runDir: ctx.dir });
      ctx.progress.step(`pre-loading ${plan.events} events`, 0, total);
      const preloaded = await preloadTopic({
        space,
        config: space.configFor('load'),
        events: plan.events,
        partitions: plan.partitions,
        runDir: ctx.dir,
      });
      ctx.progress.note(`pre-loaded ${preloaded.events} events in ${preloaded.seconds.toFixed(1)} s`);
      const batches = await measureBatches({
        space,
        preloaded,
        settings,
        runDir: ctx.dir,
        progress: ctx.progress,
        stepBase: 1,
        stepTotal: total,
      });
      const fresh = await measureFreshness({
        space,
        guard,
        rates: plan.rates,
        loadSeconds: plan.loadSeconds,
        progress: ctx.progress,
        stepBase: 1 + settings.length,
        stepTotal: total,
      });
      const rebuilds = await measureRebuilds({
        space,
        logSizes: plan.logSizes,
        partitions: plan.partitions,
        runDir: ctx.dir,
        progress: ctx.progress,
        stepBase: total - 2 * plan.logSizes.length,
        stepTotal: total,
      });
      ctx.progress.step('done', total, total);
      const figures = {
        events: preloaded.events,
        preloadEventsPerSecond: preloaded.eventsPerSecond,
        defaultBatchMs,
        loadAverage: Math.max(loadAverage, loadavg()[0] ?? 0),
        cores: cpus().length,
        batches,
        freshness: fresh.figures,
        rebuilds,
      };
      return {
        settings: {
          events: plan.events,
          'batch-sizes': plan.batchSizes.join(','),
          'batch-times': plan.batchTimesMs.join(','),
          rates: plan.rates.join(','),
          'load-seconds': plan.loadSeconds,
          'log-sizes': plan.logSizes.join(','),
          partitions: plan.partitions,
          KES_PROJECTOR_BATCH_MS: defaultBatchMs,
          KES_PROJECTOR_FETCH_BYTES: ctx.config.KES_PROJECTOR_FETCH_BYTES,
          'read-model engine': ctx.config.CLICKHOUSE_URL ? 'ClickHouse server' : 'embedded (chdb), through its owner',
          'pre-load events/s': Math.round(preloaded.eventsPerSecond),
          'highest load average (1 min)': Math.round(figures.loadAverage * 10) / 10,
        },
        tables: projectionTables(figures),
        charts: projectionCharts(figures),
        reading: projectionReading(figures),
        notes: [
          'events/s = events / (projector start → every partition committed at its end), group join included; each setting on a fresh consumer group and database over the same pre-loaded topic.',
          "Freshness = projected_at − time in the events view: ClickHouse's clock at the insert minus the guard's kes-time stamped at the commit, over the events appended in each rate's measured window (after a warm-up).",
          'Rebuild = kes projections rebuild events: a new version from offset 0 to the high watermarks, the atomic swap and the old version dropped, on a log of its own per size.',
          "One projector process sharing 2 cores with Kafka, the registry, ClickHouse, the guard and the load: absolute figures are this machine's.",
        ],
      };
    } finally {
      clearInterval(loadWatch);
      await guard?.stop();
      await space.cleanUp().then(
        () => ctx.progress.note("deleted the run's topics, consumer groups, Redis keys and databases"),
        (error: unknown) =>
          ctx.progress.note(`clean-up incomplete: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  },
};
