import {
  type Buckets,
  bucketsBetween,
  growth,
  histogram,
  mean,
  quantile,
  ratePerSecond,
  total,
  totalsBy,
} from './metricMath.js';
import type { Sample } from './prometheusText.js';

/** What one poll read: every guard's samples and every projector's, concatenated (they are summed), at `t`. */
export interface Scrape {
  t: number;
  guard: readonly Sample[];
  projector: readonly Sample[];
}

/** The pipeline over one poll interval: the figures the dashboard draws, one point per chart per frame. */
export interface Frame {
  t: number;
  /** Appends answered per second, by outcome (written, duplicate, conflict, …). */
  appendsPerSec: Record<string, number>;
  appendsTotalPerSec: number;
  eventsPerSec: number;
  commandsPerSec: number;
  /** Append latency over the interval, ms (null: nothing answered). */
  latencyMs: { p50: number | null; p90: number | null; p99: number | null };
  /**
   * Lost compare-and-swaps per second: appends answered `conflict` (an expected version that was not current). A
   * command that loses one is decided again (kes_guard_command_conflicts_total) but its lost append is counted
   * here already.
   */
  conflictsPerSec: number;
  /** Appends per group commit over the interval, and group commits per second. */
  groupCommit: { mean: number | null; p50: number | null; p99: number | null; perSec: number };
  /** Appends waiting for a group commit (gauge). */
  queued: number;
  /** Records not yet projected, summed over projections and partitions (at each projector's last batch). */
  projectorLag: number;
  /** Append-to-visible time of the events projected in the interval, ms. */
  freshnessMs: { p50: number | null; p99: number | null };
  rowsPerSec: number;
  deadLetters: number;
  deadLettersPerSec: number;
  /** Retries caused by Redis (reserve failed) and by Kafka (produce/commit failed, producer restarted), per second. */
  redisRetriesPerSec: number;
  kafkaRetriesPerSec: number;
}

/** Running totals since the services started, for the headline numbers. */
export interface Totals {
  appends: number;
  appendsBy: Record<string, number>;
  conflicts: number;
  events: number;
  rows: number;
  deadLetters: number;
}

const ms = (seconds: number | undefined) => (seconds === undefined ? null : seconds * 1000);
const CONFLICTS = ['conflict'];
const KAFKA_REQUEUES = ['produce', 'commit_unknown', 'error'];

export function totalsOf(scrape: Scrape): Totals {
  const appendsBy = totalsBy(scrape.guard, 'kes_guard_appends_total', 'outcome');
  return {
    appends: Object.values(appendsBy).reduce((a, b) => a + b, 0),
    appendsBy,
    conflicts: total(scrape.guard, 'kes_guard_appends_total', { outcome: CONFLICTS }),
    events: total(scrape.guard, 'kes_guard_events_written_total'),
    rows: total(scrape.projector, 'kes_projector_rows_total'),
    deadLetters: total(scrape.projector, 'kes_projector_dead_letters_total'),
  };
}

/** The frame for the interval between two consecutive scrapes. */
export function frameBetween(before: Scrape, after: Scrape): Frame {
  const seconds = (after.t - before.t) / 1000;
  const rate = (samples: (s: Scrape) => readonly Sample[], name: string, filter?: Record<string, string[]>) =>
    ratePerSecond(total(samples(before), name, filter), total(samples(after), name, filter), seconds);
  const guard = (s: Scrape) => s.guard;
  const projector = (s: Scrape) => s.projector;
  const delta = (samples: (s: Scrape) => readonly Sample[], name: string): Buckets =>
    bucketsBetween(histogram(samples(before), name), histogram(samples(after), name));

  const outcomesBefore = totalsBy(before.guard, 'kes_guard_appends_total', 'outcome');
  const outcomesAfter = totalsBy(after.guard, 'kes_guard_appends_total', 'outcome');
  const appendsPerSec: Record<string, number> = {};
  for (const [outcome, n] of Object.entries(outcomesAfter)) {
    appendsPerSec[outcome] = ratePerSecond(outcomesBefore[outcome] ?? 0, n, seconds);
  }
  const latency = delta(guard, 'kes_guard_append_seconds');
  const groups = delta(guard, 'kes_guard_group_commit_appends');
  const freshness = delta(projector, 'kes_projector_freshness_seconds');
  const deadLetters = total(after.projector, 'kes_projector_dead_letters_total');
  const orNull = (n: number | undefined) => n ?? null;
  return {
    t: after.t,
    appendsPerSec,
    appendsTotalPerSec: Object.values(appendsPerSec).reduce((a, b) => a + b, 0),
    eventsPerSec: rate(guard, 'kes_guard_events_written_total'),
    commandsPerSec: rate(guard, 'kes_guard_commands_total'),
    latencyMs: {
      p50: ms(quantile(latency, 0.5)),
      p90: ms(quantile(latency, 0.9)),
      p99: ms(quantile(latency, 0.99)),
    },
    conflictsPerSec: rate(guard, 'kes_guard_appends_total', { outcome: CONFLICTS }),
    groupCommit: {
      mean: orNull(mean(groups)),
      p50: orNull(quantile(groups, 0.5)),
      p99: orNull(quantile(groups, 0.99)),
      perSec: seconds > 0 ? groups.count / seconds : 0,
    },
    queued: total(after.guard, 'kes_guard_queued_appends'),
    projectorLag: total(after.projector, 'kes_projector_lag_records'),
    freshnessMs: { p50: ms(quantile(freshness, 0.5)), p99: ms(quantile(freshness, 0.99)) },
    rowsPerSec: rate(projector, 'kes_projector_rows_total'),
    deadLetters,
    deadLettersPerSec:
      seconds > 0 ? growth(total(before.projector, 'kes_projector_dead_letters_total'), deadLetters) / seconds : 0,
    redisRetriesPerSec: rate(guard, 'kes_guard_requeued_total', { reason: ['redis'] }),
    kafkaRetriesPerSec:
      rate(guard, 'kes_guard_requeued_total', { reason: KAFKA_REQUEUES }) +
      rate(guard, 'kes_guard_producer_restarts_total'),
  };
}

/** Frames of the last `windowMs`, oldest first. */
export class RollingWindow {
  private readonly frames: Frame[] = [];

  constructor(readonly windowMs: number) {}

  add(frame: Frame): void {
    this.frames.push(frame);
    const oldest = frame.t - this.windowMs;
    while ((this.frames[0]?.t ?? oldest) < oldest) this.frames.shift();
  }

  all(): readonly Frame[] {
    return this.frames;
  }

  latest(): Frame | undefined {
    return this.frames[this.frames.length - 1];
  }
}
