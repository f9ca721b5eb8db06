import type { Redis } from 'ioredis';
import type { HttpLoadClient } from '../../verify/load/httpLoad.js';

/** The guards' Prometheus counters a phase reads, summed over the guards. */
interface GuardCounters {
  groupSum: number;
  groupCount: number;
  commitSum: number;
  commitCount: number;
  appendSum: number;
  appendCount: number;
  requeued: number;
  /** Cumulative bucket counts by upper bound (seconds), summed over labels: for quantiles of a window. */
  appendBuckets: Map<number, number>;
  commitBuckets: Map<number, number>;
}

/** A Prometheus histogram's cumulative buckets by `le` (the +Inf bucket as Infinity), summed over other labels. */
function buckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + (Number(line.slice(line.lastIndexOf(' ') + 1)) || 0));
  }
  return out;
}

/**
 * The q-quantile (ms) of what a histogram observed between two scrapes, interpolated inside its bucket: as coarse as
 * the buckets (a p99 "between 50 and 100 ms" reads as somewhere in it). NaN without observations; the last finite
 * bound when it falls in +Inf.
 */
export function quantileBetween(a: Map<number, number>, b: Map<number, number>, q: number): number {
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const total = (b.get(Number.POSITIVE_INFINITY) ?? 0) - (a.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const count = (b.get(bound) ?? 0) - (a.get(bound) ?? 0);
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lower * 1000;
      const inBucket = count - below;
      return 1000 * (lower + (inBucket > 0 ? ((rank - below) / inBucket) * (bound - lower) : 0));
    }
    below = count;
    lower = bound;
  }
  return lower * 1000;
}

function parseMetrics(text: string): GuardCounters {
  const value = (name: string): number => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) {
        total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
      }
    }
    return total;
  };
  return {
    groupSum: value('kes_guard_group_commit_appends_sum'),
    groupCount: value('kes_guard_group_commit_appends_count'),
    commitSum: value('kes_guard_commit_seconds_sum'),
    commitCount: value('kes_guard_commit_seconds_count'),
    appendSum: value('kes_guard_append_seconds_sum'),
    appendCount: value('kes_guard_append_seconds_count'),
    requeued: value('kes_guard_requeued_total'),
    appendBuckets: buckets(text, 'kes_guard_append_seconds'),
    commitBuckets: buckets(text, 'kes_guard_commit_seconds'),
  };
}

export async function scrape(clients: readonly HttpLoadClient[]): Promise<GuardCounters> {
  const all = await Promise.all(
    clients.map(async (c) => {
      const answer = await c.get('/metrics');
      if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
      return parseMetrics(answer.body);
    }),
  );
  const sum: GuardCounters = {
    groupSum: 0,
    groupCount: 0,
    commitSum: 0,
    commitCount: 0,
    appendSum: 0,
    appendCount: 0,
    requeued: 0,
    appendBuckets: new Map(),
    commitBuckets: new Map(),
  };
  const counters = [
    'groupSum',
    'groupCount',
    'commitSum',
    'commitCount',
    'appendSum',
    'appendCount',
    'requeued',
  ] as const;
  for (const m of all) {
    for (const k of counters) sum[k] += m[k];
    for (const k of ['appendBuckets', 'commitBuckets'] as const) {
      for (const [bound, n] of m[k]) sum[k].set(bound, (sum[k].get(bound) ?? 0) + n);
    }
  }
  return sum;
}

export interface GuardSideFigures {
  meanGroupCommit: number;
  meanCommitMs: number;
  commits: number;
  /** Mean time inside the guard from receiving an append to answering it. */
  meanServerAppendMs: number;
  /** p99 inside the guard of a request (one append, or a whole batch request), from its histogram's buckets. */
  p99ServerAppendMs: number;
  /** p99 of a group commit (reserve to answer), from its histogram's buckets. */
  p99CommitMs: number;
  requeued: number;
}

export function guardSide(a: GuardCounters, b: GuardCounters): GuardSideFigures {
  const groups = b.groupCount - a.groupCount;
  const commits = b.commitCount - a.commitCount;
  const appends = b.appendCount - a.appendCount;
  return {
    meanGroupCommit: groups > 0 ? (b.groupSum - a.groupSum) / groups : Number.NaN,
    meanCommitMs: commits > 0 ? (1000 * (b.commitSum - a.commitSum)) / commits : Number.NaN,
    commits,
    meanServerAppendMs: appends > 0 ? (1000 * (b.appendSum - a.appendSum)) / appends : Number.NaN,
    p99ServerAppendMs: quantileBetween(a.appendBuckets, b.appendBuckets, 0.99),
    p99CommitMs: quantileBetween(a.commitBuckets, b.commitBuckets, 0.99),
    requeued: b.requeued - a.requeued,
  };
}

/** Redis INFO commandstats of the scripts (server-wide: other users of the stack show up too). */
export async function redisScriptStats(redis: Redis): Promise<{ calls: number; usec: number }> {
  const info = await redis.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_(evalsha|eval):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) {
      calls += Number(m[2]);
      usec += Number(m[3]);
    }
  }
  return { calls, usec };
}
