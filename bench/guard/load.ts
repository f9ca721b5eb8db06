import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Expected } from '../../guard/append/expectedVersion.js';
import type { HistoryWriter } from '../../verify/history/history.js';
import type { HttpLoadClient, LoadAttempt, LoadEvent } from '../../verify/load/httpLoad.js';
import { toHistory } from '../../verify/load/workload.js';
import { closedLoop } from '../support/closedLoop.js';
import { CpuMeter, cpuRecord } from '../support/cpuMeter.js';
import { round } from '../support/figures.js';
import { type LatencySummary, summarize } from '../support/latency.js';
import { openLoop } from '../support/openLoop.js';
import { type GuardSideFigures, guardSide, redisScriptStats, scrape } from './guardMetrics.js';

export const CATEGORY = 'account';
export const EVENT_TYPE = 'MoneyDeposited';

export function eventData(n: number): { amount: number; currency: string; transferId: null } {
  return { amount: 100 + (n % 900), currency: 'EUR', transferId: null };
}

/** What the clients know of the streams: the version each last saw (shared by every client, as the issue asks). */
export class Streams {
  private readonly known = new Map<string, number>();
  private n = 0;

  constructor(private readonly count: number) {}

  pick(): { stream: string; expected: Expected } {
    const stream = `${CATEGORY}-${Math.floor(Math.random() * this.count)}`;
    const v = this.known.get(stream);
    return { stream, expected: v === undefined || v < 0 ? 'no_stream' : v };
  }

  event(): LoadEvent {
    this.n += 1;
    return { id: randomUUID(), type: EVENT_TYPE, data: eventData(this.n) };
  }

  observe(a: LoadAttempt): void {
    const o = a.outcome;
    if (o.status === 'ok') {
      if ((this.known.get(a.stream) ?? -1) < o.result.lastVersion) this.known.set(a.stream, o.result.lastVersion);
    } else if (o.status === 'conflict' && Number.isFinite(o.actual)) {
      this.known.set(a.stream, o.actual);
    }
  }
}

interface Tally {
  ok: number;
  events: number;
  conflicts: number;
  rejected: number;
  indeterminate: number;
  latencies: number[];
}

const newTally = (): Tally => ({ ok: 0, events: 0, conflicts: 0, rejected: 0, indeterminate: 0, latencies: [] });

function tally(t: Tally, a: LoadAttempt, latencyMs: number): void {
  switch (a.outcome.status) {
    case 'ok':
      t.ok += 1;
      t.events += a.eventIds.length;
      t.latencies.push(latencyMs);
      return;
    case 'conflict':
      t.conflicts += 1;
      return;
    case 'rejected':
      t.rejected += 1;
      return;
    case 'indeterminate':
      t.indeterminate += 1;
      return;
  }
}

export interface LoadContext {
  clients: HttpLoadClient[];
  streams: Streams;
  history: HistoryWriter | undefined;
  cpu: CpuMeter;
  redis: Redis;
}

export interface Window {
  elapsedMs: number;
  guard: GuardSideFigures;
  cpu: Record<string, number>;
  redisScripts: { callsPerSecond: number; usecPerCall: number };
}

/** Takes the snapshots at the start of a measured window and turns them into figures at its end. */
export async function openWindow(ctx: LoadContext): Promise<() => Promise<Window>> {
  const cpu0 = ctx.cpu.snapshot();
  const [metrics0, redis0] = await Promise.all([scrape(ctx.clients), redisScriptStats(ctx.redis)]);
  return async () => {
    const cpu1 = ctx.cpu.snapshot();
    const [metrics1, redis1] = await Promise.all([scrape(ctx.clients), redisScriptStats(ctx.redis)]);
    const elapsedMs = cpu1.at - cpu0.at;
    const calls = redis1.calls - redis0.calls;
    return {
      elapsedMs,
      guard: guardSide(metrics0, metrics1),
      cpu: cpuRecord(CpuMeter.between(cpu0, cpu1), 'bench client', 'machine (all)'),
      redisScripts: {
        callsPerSecond: round((calls * 1000) / elapsedMs, 0),
        usecPerCall: round(calls > 0 ? (redis1.usec - redis0.usec) / calls : Number.NaN, 1),
      },
    };
  };
}

export function attemptDone(ctx: LoadContext, client: string, a: LoadAttempt): void {
  ctx.streams.observe(a);
  ctx.history?.record(toHistory(client, { ...a, attempt: 1 }));
}

/** Set by the phase runner: how quiet the machine was before the phase, and which attempt was kept. */
export interface Noted {
  /** CPU of the idle machine (% of one core) in the second before the phase began. */
  idleBefore?: number | undefined;
  attempts?: number;
}

export interface GuardedResult extends Noted {
  clients: number;
  appendsPerSecond: number;
  eventsPerSecond: number;
  latency: LatencySummary;
  ok: number;
  conflicts: number;
  rejected: number;
  indeterminate: number;
  window: Window;
}

/** C closed-loop clients: each sends its next append as soon as the previous one is answered. */
export async function guardedClosedLoop(
  ctx: LoadContext,
  c: number,
  warmupMs: number,
  durationMs: number,
): Promise<GuardedResult> {
  const t = newTally();
  const window = await closedLoop({
    workers: c,
    op: async (w) => {
      const client = ctx.clients[w % ctx.clients.length] as HttpLoadClient;
      const { stream, expected } = ctx.streams.pick();
      const a = await client.append(stream, expected, [ctx.streams.event()]);
      attemptDone(ctx, `c${c}.w${w}`, a);
      return a;
    },
    record: (a, latency) => tally(t, a, latency),
    warmupMs,
    durationMs,
    window: () => openWindow(ctx),
  });
  const seconds = window.elapsedMs / 1000;
  return {
    clients: c,
    appendsPerSecond: t.ok / seconds,
    eventsPerSecond: t.events / seconds,
    latency: summarize(t.latencies),
    ok: t.ok,
    conflicts: t.conflicts,
    rejected: t.rejected,
    indeterminate: t.indeterminate,
    window,
  };
}

export interface OpenLoopResult extends Noted {
  targetRate: number;
  appendsPerSecond: number;
  eventsPerSecond: number;
  /** From the scheduled start of each append to its answer (includes any wait for a free slot of the pool). */
  latency: LatencySummary;
  pool: number;
  scheduled: number;
  ok: number;
  conflicts: number;
  rejected: number;
  indeterminate: number;
  poolWaits: number;
  late: number;
  maxIssueLagMs: number;
  window: Window;
}

export async function guardedOpenLoop(
  ctx: LoadContext,
  rate: number,
  pool: number,
  warmupMs: number,
  durationMs: number,
): Promise<OpenLoopResult> {
  const t = newTally();
  const o = await openLoop({
    rate,
    pool,
    warmupMs,
    durationMs,
    op: (index) => {
      const client = ctx.clients[index % ctx.clients.length] as HttpLoadClient;
      const { stream, expected } = ctx.streams.pick();
      return client.append(stream, expected, [ctx.streams.event()]);
    },
    done: (a, latency, measured, index) => {
      attemptDone(ctx, `open.${index % pool}`, a);
      if (measured) tally(t, a, latency);
    },
    window: () => openWindow(ctx),
  });
  const seconds = durationMs / 1000;
  return {
    targetRate: rate,
    appendsPerSecond: t.ok / seconds,
    eventsPerSecond: t.events / seconds,
    latency: summarize(t.latencies),
    pool,
    scheduled: o.scheduled,
    ok: t.ok,
    conflicts: t.conflicts,
    rejected: t.rejected,
    indeterminate: t.indeterminate,
    poolWaits: o.poolWaits,
    late: o.late,
    maxIssueLagMs: o.maxIssueLagMs,
    window: o.window as Window,
  };
}
