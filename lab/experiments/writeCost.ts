import type { Experiment } from '../core/experiment.js';
import { parseWriteCostOptions, WRITE_COST_OPTIONS } from '../writeCost/options.js';
import { runWriteCost } from '../writeCost/runWriteCost.js';

/**
 * What an append costs on each path, from 1 to 256 writers: raw Kafka, guarded single appends, guarded batches,
 * atomic batches and a message-db-style Postgres event store; appends/s, p50/p99, CPU per append, and the durability
 * each acknowledgement gives.
 */
export const writeCost: Experiment = {
  name: 'write-cost',
  title: 'Write cost: raw Kafka, the guard (single, batched, atomic) and Postgres, by writers',
  summary:
    'appends/s, p50/p99 and CPU per append of raw Kafka, guarded appends and a Postgres event store, 1–256 writers',
  options: WRITE_COST_OPTIONS,
  check: (option) => {
    parseWriteCostOptions(option);
  },
  run: runWriteCost,
};
