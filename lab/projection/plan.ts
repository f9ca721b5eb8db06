import { UsageError } from '../../pipeline/errors.js';

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

function positiveList(option: string, value: string, integer = true): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (value.trim() === '' || parts.length === 0) {
    throw new UsageError(`lab projection --${option}: expected a comma-separated list of numbers, got '${value}'`, {
      option,
    });
  }
  return parts.map((p) => positiveNumber(option, p, integer));
}

function positiveNumber(option: string, value: string, integer = true): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `lab projection --${option}: expected a positive ${integer ? 'integer' : 'number'}, got '${value}'`,
      { option, value },
    );
  }
  return n;
}

/** Reads and checks every option before anything runs; a bad one is a UsageError naming it. */
export function projectionPlan(option: (name: string) => string): ProjectionPlan {
  const ascending = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  return {
    events: positiveNumber('events', option('events')),
    batchSizes: ascending(positiveList('batch-sizes', option('batch-sizes'))),
    batchTimesMs: ascending(positiveList('batch-times', option('batch-times'))),
    rates: ascending(positiveList('rates', option('rates'), false)),
    loadSeconds: positiveNumber('load-seconds', option('load-seconds'), false),
    logSizes: ascending(positiveList('log-sizes', option('log-sizes'))),
    partitions: positiveNumber('partitions', option('partitions')),
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
