import { randomUUID } from 'node:crypto';
import type { Expected } from '../../guard/append/expectedVersion.js';
import { type AttemptReport, GuardClient, type NewEvent } from '../../guard/client/guardClient.js';
import { GuardPool } from '../../guard/client/guardPool.js';
import type { AppendAttempt, HistoryWriter } from '../history/history.js';

/**
 * A write workload against one or more guards: concurrent clients appending to a set of streams with the
 * expected versions real writers use (mostly the exact version they last saw, some `any`, `no_stream` for new
 * streams), so that writers collide on hot streams. Every attempt goes to the history log for `kes check`.
 * Used by the fault tests, `npm run bench:guard` and `kes demo`.
 */
export interface WorkloadOptions {
  /** Guards to spread the clients over (round robin). */
  urls: readonly string[];
  apiKey: string;
  category: string;
  streams: number;
  concurrency: number;
  /** Stop after this long… */
  durationMs?: number;
  /** …or after this many logical appends in total. */
  appends?: number;
  /** Events per append, 1 to this. @default 1 */
  maxEventsPerAppend?: number;
  /** Share of appends on the first 1% of streams (hot streams where writers collide). @default 0.2 */
  hotShare?: number;
  /** Share of appends with expectedVersion "any". @default 0.1 */
  anyShare?: number;
  history?: HistoryWriter;
  /** Builds one event; the default is a MoneyDeposited of the example domain. */
  event?: (stream: string, n: number) => NewEvent;
  timeoutMs?: number;
  maxAttempts?: number;
  /** Stop early (faults injected by a test finish, a signal). */
  signal?: AbortSignal;
  /** After the duration, appends still retrying get this long before they give up (unknown). @default 5000 */
  graceMs?: number;
  onProgress?: (stats: WorkloadStats) => void;
}

export interface WorkloadStats {
  appends: number;
  written: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  /** Logical appends that still had no definite answer after every retry. */
  unknown: number;
  attempts: number;
  events: number;
  latenciesMs: number[];
  elapsedMs: number;
}

export function defaultEvent(_stream: string, n: number): NewEvent {
  return { type: 'MoneyDeposited', data: { amount: 100 + (n % 900), currency: 'EUR', transferId: null } };
}

export function toHistory(client: string, report: AttemptReport): AppendAttempt {
  const base = {
    op: 'append' as const,
    client,
    stream: report.stream,
    expectedVersion: report.expectedVersion,
    eventIds: report.eventIds,
    attempt: report.attempt,
    startMs: report.startMs,
    endMs: report.endMs,
    ...(report.atomicGroup === undefined ? {} : { atomicGroup: report.atomicGroup }),
  };
  const o = report.outcome;
  switch (o.status) {
    case 'ok':
      return {
        ...base,
        outcome: {
          status: 'ok',
          firstVersion: o.result.firstVersion,
          lastVersion: o.result.lastVersion,
          topic: o.result.topic,
          partition: o.result.partition,
          offset: o.result.offset,
        },
      };
    case 'conflict':
      return { ...base, outcome: { status: 'conflict', actual: o.actual } };
    case 'rejected':
      return { ...base, outcome: { status: 'rejected', httpStatus: o.httpStatus, code: o.code } };
    case 'indeterminate':
      return { ...base, outcome: { status: 'indeterminate', reason: o.reason } };
  }
}

export async function runWorkload(options: WorkloadOptions): Promise<WorkloadStats> {
  const stats: WorkloadStats = {
    appends: 0,
    written: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    unknown: 0,
    attempts: 0,
    events: 0,
    latenciesMs: [],
    elapsedMs: 0,
  };
  const known = new Map<string, number>();
  const started = Date.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
  const limit = options.appends ?? Number.POSITIVE_INFINITY;
  const hot = Math.max(1, Math.floor(options.streams / 100));
  const event = options.event ?? defaultEvent;
  let issued = 0;
  const giveUp = new AbortController();
  const giveUpTimer =
    options.durationMs === undefined
      ? undefined
      : setTimeout(() => giveUp.abort(), options.durationMs + (options.graceMs ?? 5_000));
  giveUpTimer?.unref();
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.({ ...stats, elapsedMs: Date.now() - started }), 1_000)
    : undefined;

  // One pool for every worker: a guard that stops answering costs one worker one timeout, not each of them.
  const pool = new GuardPool(options.urls);
  const worker = async (w: number) => {
    const clientName = `w${w}`;
    const client = new GuardClient({
      // Each client starts at its own guard and moves on to the next when one does not answer.
      url: options.urls,
      pool,
      preferred: w,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxAttempts: options.maxAttempts ?? 8,
      onAttempt: (report) => {
        stats.attempts += 1;
        options.history?.record(toHistory(clientName, report));
      },
    });
    while (Date.now() < deadline && issued < limit && !options.signal?.aborted) {
      issued += 1;
      const n = issued;
      const index =
        Math.random() < (options.hotShare ?? 0.2)
          ? Math.floor(Math.random() * hot)
          : Math.floor(Math.random() * options.streams);
      const stream = `${options.category}-${index}`;
      const version = known.get(stream);
      const expected: Expected =
        Math.random() < (options.anyShare ?? 0.1) ? 'any' : version === undefined ? 'no_stream' : version;
      const count = 1 + Math.floor(Math.random() * (options.maxEventsPerAppend ?? 1));
      const events = Array.from({ length: count }, (_, i) => ({ ...event(stream, n + i), id: randomUUID() }));
      const t0 = performance.now();
      stats.appends += 1;
      try {
        const result = await client.appendToStream(stream, events, {
          expectedVersion: expected,
          signal: giveUp.signal,
        });
        stats.latenciesMs.push(performance.now() - t0);
        if (result.duplicate) stats.duplicates += 1;
        stats.written += 1;
        stats.events += count;
        if ((known.get(stream) ?? -1) < result.lastVersion) known.set(stream, result.lastVersion);
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'WrongExpectedVersionError') {
          stats.conflicts += 1;
          known.set(stream, (error as { actual: number }).actual);
        } else if (name === 'AppendIndeterminateError') stats.unknown += 1;
        else stats.rejected += 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  } finally {
    if (progress) clearInterval(progress);
    if (giveUpTimer) clearTimeout(giveUpTimer);
  }
  stats.elapsedMs = Date.now() - started;
  return stats;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
