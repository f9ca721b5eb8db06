import type { Kafka } from 'kafkajs';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { eventsProjection } from '../../projectors/readModels/eventsProjection.js';
import type { Accounted, CpuMeter } from '../support/cpuMeter.js';
import type { Options } from './options.js';
import type { PhaseCpu } from './phaseCpu.js';
import type { Profiler, ProfileSummary } from './profiler.js';

/** The projection every phase projects: one row per event, with `projected_at` for freshness. */
export const PROJECTION = eventsProjection;

export interface OpenedEngine {
  engine: ClickHouseEngine;
  version: string;
  /** Its URL or data path. */
  where: string;
}

export interface PreloadResult {
  topic: string;
  events: number;
  transactions: number;
  producers: number;
  threads: number;
  txEvents: number;
  seconds: number;
  eventsPerSecond: number;
  bytes: number;
  endOffsets: number;
  streams: number;
  types: Record<string, number>;
  cpu: PhaseCpu;
}

export interface ConsumeResult {
  label: string;
  group: string;
  events: number;
  /** From start() to every partition at its end. */
  seconds: number;
  eventsPerSecond: number;
  /** Until the consumer had its partitions (group join and sync). */
  joinSeconds: number;
  /** Events / (seconds - joinSeconds): the rate once consuming. */
  eventsPerSecondAfterJoin: number;
  inserts: number;
  meanRowsPerInsert: number;
  p50RowsPerInsert: number;
  maxRowsPerInsert: number;
  /** engine.insert alone, per insert into the sink table. */
  meanInsertMs: number;
  p99InsertMs: number;
  /** Sum of engine.insert time over the phase, as a share of the phase's wall time. */
  insertShareOfWall: number;
  /** ProjectorMetrics' kes_projector_insert_seconds: a whole flush (dead letters, inserts, offset commit). */
  meanFlushMs: number;
  flushes: number;
  cpu: PhaseCpu;
  idleBefore: number | undefined;
  /** Which attempt was kept (see --max-noise). */
  attempts?: number;
  profile?: ProfileSummary | undefined;
}

export interface FreshnessLoad {
  rate: number;
  appendsPerSecond: number;
  scheduled: number;
  ok: number;
  failed: number;
  /** Measured appends that found every slot of --pool busy at their due time. */
  poolWaits: number;
  p50Ms: number;
  p99Ms: number;
  /** Epoch ms of the measured window (appends due in it). */
  windowFromMs: number;
  windowToMs: number;
}

export interface FreshnessResult {
  peakAppendsPerSecond: number | undefined;
  peakP99Ms: number | undefined;
  load: FreshnessLoad;
  /** Events appended (kes-time) inside the window and found in the events view. */
  events: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  cpu: PhaseCpu;
  idleBefore: number | undefined;
}

/** What the phases of bench:projector share: the set-up, and each phase's figures for the phases after it. */
export interface ProjectorRun {
  id: string;
  /** `bench_<id>`: the prefix of every topic, group, Redis key and database of the run. */
  namespace: string;
  /** The pre-load's and the freshness load's category, random per run. */
  category: string;
  runDir: string;
  options: Options;
  /** Settings of the pre-loaded part (`<namespace>.load.`) and of the freshness part (`<namespace>.fresh.`). */
  config: KesConfig;
  freshConfig: KesConfig;
  /** The pre-loaded topic. */
  topic: string;
  kafka: Kafka;
  cpu: CpuMeter;
  /** Processes a phase starts (the guard), accounted by `cpu` while they run. */
  accounted: Accounted[];
  profiler: Profiler | undefined;
  /** The ClickHouse engine, opened by the first phase that asks. */
  engine: () => Promise<OpenedEngine>;
  /** Databases and consumer groups the run made, for the clean-up. */
  databases: string[];
  groups: string[];
  /** Run at the end, last first, whatever happened: what a phase started and left running for the report. */
  closers: (() => Promise<void> | void)[];
  /** A measurement after a quiet machine, again while others disturbed it (see leastDisturbed); `attempts` set. */
  measure: <T extends { cpu: PhaseCpu; attempts?: number }>(
    label: string,
    once: (attempt: number, idleBefore: number | undefined) => Promise<T>,
  ) => Promise<T>;
  preload?: PreloadResult;
  /** End offsets of the pre-loaded topic: where the consume phases stop. */
  ends?: Map<number, number>;
  raw?: ConsumeResult;
  clickhouse?: ConsumeResult & { countInEventsView: number };
  freshness?: FreshnessResult;
}
