import { positiveList, positiveNumber } from '../core/optionValues.js';

/** What one run of the projection experiment measures, read from its options. */
export interface ProjectionPlan {
  /** Events pre-loaded for part 1 (events/s against the batch settings). */
  events: number;
  batchSizes: number[];
  batchTimesMs: number[];
  /** Guarded appends/s of part 2 (freshness against load), and how long each rate is measured. */
  rates: number[];
  loadSeconds: number;
  /** Sizes of the log rebuilt in part 3. */
  logSizes: number[];
  partitions: number;
}

/** One consume of the pre-loaded topic: KES_PROJECTOR_BATCH_ROWS and KES_PROJECTOR_BATCH_MS for it. */
export interface BatchSetting {
  rows: number;
  ms: number;
}

/** Reads and checks every option before anything runs; a bad one is a UsageError naming it. */
export function projectionPlan(option: (name: string) => string): ProjectionPlan {
  const name = 'projection';
  return {
    events: positiveNumber(name, 'events', option('events'), true),
    batchSizes: positiveList(name, 'batch-sizes', option('batch-sizes')),
    batchTimesMs: positiveList(name, 'batch-times', option('batch-times')),
    rates: positiveList(name, 'rates', option('rates'), Number.MAX_SAFE_INTEGER, false),
    loadSeconds: positiveNumber(name, 'load-seconds', option('load-seconds')),
    logSizes: positiveList(name, 'log-sizes', option('log-sizes')),
    partitions: positiveNumber(name, 'partitions', option('partitions'), true),
  };
}

/**
 * The consumes of part 1: every batch size at the configured batch time (the sizes series), then every other batch
 * time at the largest size (a backlog fills batches by bytes, so the time only shows where batches are large).
 * No setting is measured twice.
 */
export function batchSettings(
  plan: Pick<ProjectionPlan, 'batchSizes' | 'batchTimesMs'>,
  defaultMs: number,
): BatchSetting[] {
  const settings: BatchSetting[] = plan.batchSizes.map((rows) => ({ rows, ms: defaultMs }));
  const largest = Math.max(...plan.batchSizes);
  for (const ms of plan.batchTimesMs) {
    if (!settings.some((s) => s.rows === largest && s.ms === ms)) settings.push({ rows: largest, ms });
  }
  return settings;
}
