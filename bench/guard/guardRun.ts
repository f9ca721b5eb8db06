import type { Kafka } from 'kafkajs';
import type { KesConfig } from '../../pipeline/config/config.js';
import type { Accounted } from '../support/cpuMeter.js';
import type { LatencySummary } from '../support/latency.js';
import type { GuardedResult, LoadContext, Noted, OpenLoopResult, Window } from './load.js';
import type { Options } from './options.js';

/** The raw ceiling's figures for one --raw-batch (bench/guard/rawCeiling.ts). */
export interface RawResult extends Noted {
  batch: number;
  batchSource: string;
  producers: number;
  eventsPerSecond: number;
  transactions: number;
  /** Begin → sendBatch → commit, per transaction. */
  latency: LatencySummary;
  /** Mean time to build one transaction's records (Avro, hash, headers): CPU the guard spends too. */
  meanBuildMs: number;
  cpu: Record<string, number>;
}

/** The figures of the batched, batched half-peak and atomic phases (bench/guard/batchedPhases.ts). */
export interface BatchedResult extends Noted {
  phase: 'batched' | 'batched, half peak' | 'atomic';
  /** Closed-loop writers, or the open loop's pool. */
  clients: number;
  /** Appends written per second (in atomic batches: the items). */
  appendsPerSecond: number;
  eventsPerSecond: number;
  /** Per call: one append, or one atomic batch. */
  latency: LatencySummary;
  ok: number;
  conflicts: number;
  errors: number;
  targetRate?: number;
  window: Window;
}

/** One client against one raw single-record transaction, alternating (bench/guard/singleAppend.ts). */
export interface SingleAppendResult {
  rounds: number;
  guarded: { appends: number; latency: LatencySummary };
  /** Stock kafkajs: what the target compares with. */
  raw: { transactions: number; latency: LatencySummary };
  /** The same raw transaction with the coordinator kept, as the guard's producers do (patches/kafkajs+2.2.4.patch). */
  rawCached: { transactions: number; latency: LatencySummary };
  /** guarded p50 / raw p50. */
  ratio: number;
  /** guarded p50 / rawCached p50: the guard's own overhead over the transaction it runs. */
  ratioCached: number;
}

/** The HTTP floor's figures (bench/guard/httpFloorPhase.ts). */
export interface FloorPhase extends Noted {
  clients: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  clientUsPerRequest: number;
  serverUsPerRequest: number;
  cpu: Record<string, number>;
}

/** What the phases of bench:guard share: the set-up, and each phase's figures for the phases after it. */
export interface GuardRun {
  id: string;
  options: Options;
  config: KesConfig;
  kafka: Kafka;
  ctx: LoadContext;
  /** The guards' base URLs (the coalescing client of the batched phases talks to them itself). */
  guardUrls: string[];
  partitions: number;
  rawTopic: string;
  /** Processes a phase starts of its own (the HTTP floor's server), accounted while they run. */
  extraProcesses: Accounted[];
  /** A phase's measurement after a quiet machine, again while others disturbed it (see leastDisturbed). */
  measure: <T extends Noted>(
    label: string,
    run: () => Promise<T>,
    cpuOf: (r: T) => Record<string, number>,
  ) => Promise<T>;
  guarded: GuardedResult[];
  floor?: FloorPhase;
  raw: RawResult[];
  half?: OpenLoopResult;
  /** The phases batched (closed loop, half peak) and atomic, in the order they ran. */
  batched: BatchedResult[];
  /** One client against one raw single-record transaction, alternating (bench/guard/singleAppend.ts). */
  single?: SingleAppendResult;
}

export function bestOf(run: GuardRun): GuardedResult | undefined {
  return run.guarded.reduce<GuardedResult | undefined>(
    (b, r) => (b === undefined || r.appendsPerSecond > b.appendsPerSecond ? r : b),
    undefined,
  );
}

export function mostClientsOf(run: GuardRun): GuardedResult | undefined {
  return run.guarded.reduce<GuardedResult | undefined>(
    (b, r) => (b === undefined || r.clients > b.clients ? r : b),
    undefined,
  );
}
