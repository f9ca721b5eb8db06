import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The guard's Prometheus metrics, on a registry of its own (tests run several guards in one process). */
export class GuardMetrics {
  readonly registry = new Registry();
  readonly appends = new Counter({
    name: 'kes_guard_appends_total',
    help: 'Appends answered, by outcome (written, duplicate, conflict, id_conflict, rejected, not_ready, unknown)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'kes_guard_events_written_total',
    help: 'Events committed to Kafka',
    registers: [this.registry],
  });
  readonly appendSeconds = new Histogram({
    name: 'kes_guard_append_seconds',
    help: 'Time from receiving an append to answering it',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly groupCommitAppends = new Histogram({
    name: 'kes_guard_group_commit_appends',
    help: 'Appends reserved per group commit (one Kafka transaction, one Redis pipeline)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    registers: [this.registry],
  });
  readonly batchItems = new Histogram({
    name: 'kes_guard_batch_items',
    help: 'Items per batch request (POST /appends, POST /commands): how well the clients coalesce',
    labelNames: ['route'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    registers: [this.registry],
  });
  readonly commandsTogether = new Histogram({
    name: 'kes_guard_commands_together',
    help: 'Commands of one stream decided together and written as one append (guard/commands/decideTogether.ts)',
    labelNames: ['category'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 100],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'kes_guard_commit_seconds',
    help: 'Duration of one group commit: reserve, produce, commit, confirm',
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'kes_guard_requeued_total',
    help: 'Appends put back for a later group commit, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly recoveries = new Counter({
    name: 'kes_guard_recoveries_total',
    help: 'Recoveries: reservations resolved (forward/back) and state rebuilds from Kafka',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly fenced = new Counter({
    name: 'kes_guard_producer_restarts_total',
    help: 'Transactional producers re-initialised after a fence or an error',
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: 'kes_guard_ready',
    help: '1 when the guard takes writes, 0 while starting or rebuilding',
    registers: [this.registry],
  });
  readonly queued = new Gauge({
    name: 'kes_guard_queued_appends',
    help: 'Appends waiting for a group commit',
    registers: [this.registry],
  });
  readonly commands = new Counter({
    name: 'kes_guard_commands_total',
    help: 'Commands answered, by category and outcome (ok, noop, duplicate, rejected, conflict, error)',
    labelNames: ['category', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly commandConflicts = new Counter({
    name: 'kes_guard_command_conflicts_total',
    help: 'Command attempts that lost the compare-and-swap and were decided again on a reloaded state',
    labelNames: ['category'] as const,
    registers: [this.registry],
  });
  readonly commandStateLoads = new Counter({
    name: 'kes_guard_command_state_loads_total',
    help: 'Command states loaded, by source: cache (current in Redis), log (events read from Kafka), empty',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly commandEventsRead = new Counter({
    name: 'kes_guard_command_events_read_total',
    help: 'Events read back from Kafka to fold command states',
    registers: [this.registry],
  });

  constructor() {
    // Process metrics (CPU, memory, event-loop lag, GC, handles: process_* and nodejs_*), on this registry.
    collectDefaultMetrics({ register: this.registry });
  }
}
