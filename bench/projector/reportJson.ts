import { formatNumber, round, type Verdict } from '../support/figures.js';
import { usPerEvent } from './phaseCpu.js';
import type { ConsumeResult, OpenedEngine, ProjectorRun } from './projectorRun.js';

const TARGET_EVENTS_PER_S = 100_000;
const TARGET_RATIO = 0.7;
const TARGET_FRESHNESS_P99_MS = 2_000;
const fmt = (n: number | undefined, digits = 0) => formatNumber(n, digits);

/** Projector events/s over raw events/s: the cost of the sink; undefined unless both phases ran. */
export function ratioOf(run: ProjectorRun): number | undefined {
  const { raw, clickhouse: ch } = run;
  return raw && ch ? ch.eventsPerSecond / raw.eventsPerSecond : undefined;
}

export function verdictsOf(run: ProjectorRun): Verdict[] {
  const { raw, clickhouse: ch, freshness: fresh, options } = run;
  const ratio = ratioOf(run);
  return [
    {
      target: `projector into ClickHouse ≥ ${fmt(TARGET_EVENTS_PER_S)} events/s per process`,
      measured: ch ? `${fmt(ch.eventsPerSecond)} events/s` : 'skipped',
      result: ch === undefined ? 'n/a' : ch.eventsPerSecond >= TARGET_EVENTS_PER_S ? 'PASS' : 'FAIL',
    },
    {
      target: `projector ≥ ${TARGET_RATIO} × raw consume + decode`,
      measured:
        ratio === undefined
          ? 'skipped'
          : `${fmt(ch?.eventsPerSecond)} / ${fmt(raw?.eventsPerSecond)} = ${ratio.toFixed(2)}`,
      result: ratio === undefined ? 'n/a' : ratio >= TARGET_RATIO ? 'PASS' : 'FAIL',
    },
    {
      target: `freshness p99 < ${fmt(TARGET_FRESHNESS_P99_MS)} ms at ${options.rate === undefined ? 'half the guard peak' : '--rate'}`,
      measured: fresh
        ? `p99 ${fmt(fresh.p99Ms)} ms (p50 ${fmt(fresh.p50Ms)}) at ${fmt(fresh.load.appendsPerSecond)} appends/s`
        : 'skipped',
      result: fresh === undefined ? 'n/a' : fresh.p99Ms < TARGET_FRESHNESS_P99_MS ? 'PASS' : 'FAIL',
    },
  ];
}

function phaseJson(p: ConsumeResult) {
  return {
    events: p.events,
    seconds: round(p.seconds, 3),
    eventsPerSecond: round(p.eventsPerSecond, 0),
    joinSeconds: round(p.joinSeconds, 3),
    eventsPerSecondAfterJoin: round(p.eventsPerSecondAfterJoin, 0),
    batches: p.inserts,
    meanRowsPerBatch: round(p.meanRowsPerInsert, 0),
    p50RowsPerBatch: p.p50RowsPerInsert,
    maxRowsPerBatch: p.maxRowsPerInsert,
    meanInsertMs: round(p.meanInsertMs, 1),
    p99InsertMs: round(p.p99InsertMs, 1),
    insertShareOfWall: round(p.insertShareOfWall, 3),
    meanFlushMs: round(p.meanFlushMs, 1),
    cpuPercent: p.cpu,
    cpuUsPerEvent: usPerEvent(p.cpu, p.seconds, p.events),
    idleMachineBefore: p.idleBefore ?? null,
    attempt: p.attempts ?? 1,
    profile: p.profile ?? null,
  };
}

/** The figures as one JSON object; a phase that did not run is null. */
export function figuresJson(
  run: ProjectorRun,
  m: Record<string, string | number>,
  opened: OpenedEngine | undefined,
  verdicts: Verdict[],
) {
  const { options, config, preload: loaded, raw, clickhouse: ch, freshness: fresh } = run;
  const ratio = ratioOf(run);
  return {
    run: {
      id: run.id,
      runDir: run.runDir,
      machine: m,
      topic: run.topic,
      partitions: options.partitions,
      streams: options.streams,
      engine: opened ? { kind: opened.engine.kind, version: opened.version, where: opened.where } : null,
      settings: {
        KES_PROJECTOR_BATCH_ROWS: config.KES_PROJECTOR_BATCH_ROWS,
        KES_PROJECTOR_BATCH_MS: config.KES_PROJECTOR_BATCH_MS,
        KES_PROJECTOR_FETCH_BYTES: config.KES_PROJECTOR_FETCH_BYTES,
      },
    },
    preload: loaded
      ? {
          events: loaded.events,
          transactions: loaded.transactions,
          producers: loaded.producers,
          eventsPerTransaction: loaded.txEvents,
          threads: loaded.threads,
          seconds: round(loaded.seconds, 2),
          eventsPerSecond: round(loaded.eventsPerSecond, 0),
          bytesPerRecord: round(loaded.bytes / loaded.events, 0),
          types: loaded.types,
          cpuPercent: loaded.cpu,
          cpuUsPerEvent: usPerEvent(loaded.cpu, loaded.seconds, loaded.events),
        }
      : null,
    raw: raw ? phaseJson(raw) : null,
    clickhouse: ch ? { ...phaseJson(ch), countInEventsView: ch.countInEventsView } : null,
    ratio: ratio === undefined ? null : round(ratio, 3),
    freshness: fresh
      ? {
          peakAppendsPerSecond: fresh.peakAppendsPerSecond === undefined ? null : round(fresh.peakAppendsPerSecond, 0),
          rate: round(fresh.load.rate, 0),
          appendsPerSecond: round(fresh.load.appendsPerSecond, 0),
          seconds: options.freshnessSeconds,
          scheduled: fresh.load.scheduled,
          ok: fresh.load.ok,
          failed: fresh.load.failed,
          poolWaits: fresh.load.poolWaits,
          appendLatencyMs: { p50: round(fresh.load.p50Ms, 1), p99: round(fresh.load.p99Ms, 1) },
          events: fresh.events,
          freshnessMs: { p50: fresh.p50Ms, p99: fresh.p99Ms, max: fresh.maxMs, mean: round(fresh.meanMs, 1) },
          cpuPercent: fresh.cpu,
          idleMachineBefore: fresh.idleBefore ?? null,
        }
      : null,
    targets: verdicts,
  };
}
