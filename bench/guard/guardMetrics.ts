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
  };
  for (const m of all) for (const k of Object.keys(sum) as (keyof GuardCounters)[]) sum[k] += m[k];
  return sum;
}

export interface GuardSideFigures {
  meanGroupCommit: number;
  meanCommitMs: number;
  commits: number;
  /** Mean time inside the guard from receiving an append to answering it. */
  meanServerAppendMs: number;
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
