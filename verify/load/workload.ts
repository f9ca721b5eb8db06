import { randomUUID } from 'node:crypto';
import type { Expected } from '../../guard/append/expectedVersion.js';
import type { AttemptReport, CoalesceOptions, NewEvent } from '../../guard/client/appendTypes.js';
import { BATCH_ABORTED } from '../../guard/client/batchResults.js';
import type { AppendCallOptions } from '../../guard/client/guardClient.js';
import { GuardClient } from '../../guard/client/guardClient.js';
import { GuardPool } from '../../guard/client/guardPool.js';
import { AtomicAppendError } from '../../pipeline/errors.js';
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
  /**
   * After the duration (or the signal), appends still retrying get this long before they give up (unknown).
   * @default 5000
   */
  graceMs?: number;
  onProgress?: (stats: WorkloadStats) => void;
  /**
   * Send through the coalescing client: the workers share one client per guard, so that their concurrent appends go
   * as batch requests. @default undefined: each worker sends its appends alone, as before issue 13
   */
  batch?: CoalesceOptions;
  /** Every other append of a worker is an atomic batch of this many distinct streams (appendAtomically). */
  atomic?: number;
  /** Workers are named `<clientPrefix><n>` in the history (two workloads into one history need two). @default 'w' */
  clientPrefix?: string;
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
  /** Atomic batches tried, and written whole (their items count in appends, written, conflicts, … too). */
  atomicBatches: number;
  atomicWritten: number;
  /** Items of atomic batches refused only because another item of theirs was (batch_aborted). */
  aborted: number;
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
    atomicBatches: 0,
    atomicWritten: 0,
    aborted: 0,
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
  // Stopped early by the signal, appends still retrying get the same grace as after the duration, not the rest of it.
  let graceTimer: NodeJS.Timeout | undefined;
  const graceAfterSignal = () => {
    graceTimer = setTimeout(() => giveUp.abort(), options.graceMs ?? 5_000);
    graceTimer.unref();
  };
  if (options.signal?.aborted) graceAfterSignal();
  else options.signal?.addEventListener('abort', graceAfterSignal, { once: true });
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.({ ...stats, elapsedMs: Date.now() - started }), 1_000)
    : undefined;

  // One pool for every worker: a guard that stops answering costs one worker one timeout, not each of them.
  const pool = new GuardPool(options.urls);
  const clientOptions = (preferred: number) => ({
    // Each client starts at its own guard and moves on to the next when one does not answer.
    url: options.urls,
    pool,
    preferred,
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? 10_000,
    maxAttempts: options.maxAttempts ?? 8,
    coalesce: options.batch ?? (false as const),
  });
  // Coalescing: one client per guard, shared by the workers that start there, so that their appends meet.
  const shared = options.batch ? options.urls.map((_, i) => new GuardClient(clientOptions(i))) : [];
  const pickStream = () =>
    Math.random() < (options.hotShare ?? 0.2)
      ? Math.floor(Math.random() * hot)
      : Math.floor(Math.random() * options.streams);
  const expectedOf = (stream: string): Expected => {
    const version = known.get(stream);
    return Math.random() < (options.anyShare ?? 0.1) ? 'any' : version === undefined ? 'no_stream' : version;
  };
  const eventsOf = (stream: string, n: number) => {
    const count = 1 + Math.floor(Math.random() * (options.maxEventsPerAppend ?? 1));
    return Array.from({ length: count }, (_, i) => ({ ...event(stream, n + i), id: randomUUID() }));
  };
  const learn = (stream: string, lastVersion: number) => {
    if ((known.get(stream) ?? -1) < lastVersion) known.set(stream, lastVersion);
  };
  const counted = (error: unknown, stream: string) => {
    const name = (error as Error).name;
    if (name === 'WrongExpectedVersionError') {
      stats.conflicts += 1;
      known.set(stream, (error as { actual: number }).actual);
    } else if (name === 'AppendIndeterminateError') stats.unknown += 1;
    else stats.rejected += 1;
  };

  const worker = async (w: number) => {
    const clientName = `${options.clientPrefix ?? 'w'}${w}`;
    const onAttempt = (report: AttemptReport) => {
      stats.attempts += 1;
      options.history?.record(toHistory(clientName, report));
    };
    const client = shared[w % Math.max(1, shared.length)] ?? new GuardClient({ ...clientOptions(w), onAttempt });
    const callOptions = shared.length > 0 ? { signal: giveUp.signal, onAttempt } : { signal: giveUp.signal };
    let round = 0;
    while (Date.now() < deadline && issued < limit && !options.signal?.aborted) {
      round += 1;
      if (options.atomic !== undefined && round % 2 === 0) {
        await atomicBatch(client, options.atomic, callOptions);
        continue;
      }
      issued += 1;
      const n = issued;
      const stream = `${options.category}-${pickStream()}`;
      const events = eventsOf(stream, n);
      const t0 = performance.now();
      stats.appends += 1;
      try {
        const result = await client.appendToStream(stream, events, {
          expectedVersion: expectedOf(stream),
          ...callOptions,
        });
        stats.latenciesMs.push(performance.now() - t0);
        if (result.duplicate) stats.duplicates += 1;
        stats.written += 1;
        stats.events += events.length;
        learn(stream, result.lastVersion);
      } catch (error) {
        counted(error, stream);
      }
    }
  };

  /** One atomic batch of `k` distinct streams; its items count as appends. */
  const atomicBatch = async (client: GuardClient, k: number, callOptions: AppendCallOptions) => {
    const indexes = new Set<number>();
    while (indexes.size < k) indexes.add(pickStream());
    const items = [...indexes].map((i) => {
      issued += 1;
      const stream = `${options.category}-${i}`;
      return { stream, events: eventsOf(stream, issued), expectedVersion: expectedOf(stream) };
    });
    stats.appends += items.length;
    stats.atomicBatches += 1;
    const t0 = performance.now();
    try {
      const results = await client.appendAtomically(items, callOptions);
      stats.latenciesMs.push(performance.now() - t0);
      stats.atomicWritten += 1;
      results.forEach((r, i) => {
        if (r.duplicate) stats.duplicates += 1;
        stats.written += 1;
        stats.events += items[i]?.events.length ?? 0;
        learn(r.stream, r.lastVersion);
      });
    } catch (error) {
      if (!(error instanceof AtomicAppendError)) throw error;
      for (const r of error.results) {
        if (r.error?.context.error === BATCH_ABORTED) stats.aborted += 1;
        else if (r.error) counted(r.error, r.stream);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  } finally {
    if (progress) clearInterval(progress);
    if (giveUpTimer) clearTimeout(giveUpTimer);
    if (graceTimer) clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', graceAfterSignal);
  }
  stats.elapsedMs = Date.now() - started;
  return stats;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Two workloads' figures as one (a fault scenario runs single appends and batches side by side). */
export function mergeStats(a: WorkloadStats, b: WorkloadStats): WorkloadStats {
  const sum = (k: Exclude<keyof WorkloadStats, 'latenciesMs' | 'elapsedMs'>) => a[k] + b[k];
  return {
    appends: sum('appends'),
    written: sum('written'),
    duplicates: sum('duplicates'),
    conflicts: sum('conflicts'),
    rejected: sum('rejected'),
    unknown: sum('unknown'),
    attempts: sum('attempts'),
    events: sum('events'),
    latenciesMs: [...a.latenciesMs, ...b.latenciesMs],
    elapsedMs: Math.max(a.elapsedMs, b.elapsedMs),
    atomicBatches: sum('atomicBatches'),
    atomicWritten: sum('atomicWritten'),
    aborted: sum('aborted'),
  };
}
