import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** A projector process's Prometheus metrics, on a registry of its own (tests run several projectors in one process). */
export class ProjectorMetrics {
  readonly registry = new Registry();
  readonly rows = new Counter({
    name: 'kes_projector_rows_total',
    help: 'Events inserted into ClickHouse (rate() of this is rows/s)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly batchRows = new Histogram({
    name: 'kes_projector_batch_rows',
    help: 'Rows per ClickHouse insert',
    labelNames: ['projection'] as const,
    buckets: [1, 10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000],
    registers: [this.registry],
  });
  readonly insertSeconds = new Histogram({
    name: 'kes_projector_insert_seconds',
    help: 'Duration of one batch: dead letters, insert, offset commit',
    labelNames: ['projection'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly freshness = new Histogram({
    name: 'kes_projector_freshness_seconds',
    help: "Time from an event's append (ce_time) to its visibility in ClickHouse (insert acknowledged)",
    labelNames: ['projection'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'kes_projector_lag_records',
    help: 'Records between the high watermark and the next offset to project, per partition (at the last batch)',
    labelNames: ['projection', 'topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'kes_projector_dead_letters_total',
    help: 'Records sent to the dead-letter topic, by reason',
    labelNames: ['projection', 'reason'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'kes_projector_insert_retries_total',
    help: 'Batches retried after a retriable failure (ClickHouse or registry unavailable)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly partitions = new Gauge({
    name: 'kes_projector_assigned_partitions',
    help: 'Partitions this process is assigned in the projection consumer group',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly version = new Gauge({
    name: 'kes_projector_version',
    help: 'The projection version this process writes',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Process metrics (CPU, memory, event-loop lag, GC, handles: process_* and nodejs_*), on this registry.
    collectDefaultMetrics({ register: this.registry });
  }
}
