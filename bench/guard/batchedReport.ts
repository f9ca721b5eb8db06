import { renderRows } from '../../pipeline/output/textOutput.js';
import { formatNumber, round, roundAll, type Verdict } from '../support/figures.js';
import { cpuUsPerEvent } from './batchedPhases.js';
import type { GuardRun } from './guardRun.js';
import { loadFigures, P99_TARGET_MS, RATIO_TARGET, type Row, SINGLE_RATIO_TARGET } from './targets.js';

/** The report of issue 13's phases (batched, half peak, atomic) and CPU per event, beside report.ts's. */
const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);

export function batchedVerdicts(run: GuardRun): Verdict[] {
  const ceiling = run.raw[0];
  const verdicts: Verdict[] = [];
  const batched = run.batched.find((r) => r.phase === 'batched');
  const batchedHalf = run.batched.find((r) => r.phase === 'batched, half peak');
  if (batched) {
    const r = ceiling ? batched.eventsPerSecond / ceiling.eventsPerSecond : undefined;
    verdicts.push({
      target: `batched (coalescing client) at ${batched.clients} writers ≥ ${RATIO_TARGET} × raw ceiling (aim 0.8)`,
      measured:
        r === undefined
          ? 'raw ceiling skipped'
          : `${fmt(batched.eventsPerSecond, 0)} / ${fmt(ceiling?.eventsPerSecond, 0)} events/s = ${r.toFixed(2)}`,
      result: r === undefined ? 'n/a' : r >= RATIO_TARGET ? 'PASS' : 'FAIL',
    });
  }
  if (batchedHalf) {
    verdicts.push({
      target: `batched: p99 < ${P99_TARGET_MS} ms at half its peak`,
      measured: `p99 ${fmt(batchedHalf.latency.p99)} ms at ${fmt(batchedHalf.targetRate, 0)} appends/s`,
      result: batchedHalf.latency.p99 < P99_TARGET_MS ? 'PASS' : 'FAIL',
    });
  }
  if (run.single) {
    const s = run.single;
    verdicts.push({
      target: `1 client: p50 ≤ ${SINGLE_RATIO_TARGET} × a raw single-record kafkajs transaction (stock)`,
      measured: `${fmt(s.guarded.latency.p50, 2)} / ${fmt(s.raw.latency.p50, 2)} ms = ${s.ratio.toFixed(2)} (${s.rounds} alternating rounds)`,
      result: s.ratio <= SINGLE_RATIO_TARGET ? 'PASS' : 'FAIL',
    });
    verdicts.push({
      target: '(for reference) the same, against raw transactions that keep their coordinator as the guard does',
      measured: `${fmt(s.guarded.latency.p50, 2)} / ${fmt(s.rawCached.latency.p50, 2)} ms = ${s.ratioCached.toFixed(2)}`,
      result: s.ratioCached <= SINGLE_RATIO_TARGET ? 'PASS' : 'FAIL',
    });
  }
  return verdicts;
}

export function batchedRows(run: GuardRun): Row[] {
  const single: Row[] = run.single
    ? [
        {
          phase: 'single append (1 client, alternating)',
          clients: '1',
          p50: run.single.guarded.latency.p50,
          p99: run.single.guarded.latency.p99,
          max: run.single.guarded.latency.max,
        },
        {
          phase: 'raw single-record transaction',
          clients: '1 producer',
          p50: run.single.raw.latency.p50,
          p99: run.single.raw.latency.p99,
          max: run.single.raw.latency.max,
        },
        {
          phase: 'raw single-record transaction, coordinator kept',
          clients: '1 producer',
          p50: run.single.rawCached.latency.p50,
          p99: run.single.rawCached.latency.p99,
          max: run.single.rawCached.latency.max,
        },
      ]
    : [];
  return [
    ...single,
    ...run.batched.map((r) => ({
      phase:
        r.phase === 'batched, half peak'
          ? `batched, half peak @ ${fmt(r.targetRate, 0)}/s`
          : r.phase === 'atomic'
            ? `atomic batches of ${run.options.atomicSize} (latency per batch)`
            : 'batched (coalescing client)',
      clients: r.phase === 'batched, half peak' ? `≤ ${r.clients} in flight` : String(r.clients),
      ...loadFigures(r, r.errors),
    })),
  ];
}

/** CPU µs per appended event, per process and phase (issue 13 asks it of the guard, the client, Kafka and Redis). */
export function cpuPerEventTable(run: GuardRun): string {
  const phases = [
    ...run.guarded.map((r) => ({ phase: `guarded ${r.clients}`, us: cpuUsPerEvent(r.window.cpu, r.eventsPerSecond) })),
    ...(run.half ? [{ phase: 'half peak', us: cpuUsPerEvent(run.half.window.cpu, run.half.eventsPerSecond) }] : []),
    ...run.raw.map((r) => ({ phase: `raw ${r.batch}/tx`, us: cpuUsPerEvent(r.cpu, r.eventsPerSecond) })),
    ...run.batched.map((r) => ({ phase: r.phase, us: cpuUsPerEvent(r.window.cpu, r.eventsPerSecond) })),
  ];
  type P = (typeof phases)[number];
  const names = [...new Set(phases.flatMap((p) => Object.keys(p.us)))];
  return renderRows(
    phases,
    [
      { header: 'CPU µs per event', value: (p: P) => p.phase },
      ...names.map((name) => ({ header: name, value: (p: P) => p.us[name] })),
    ],
    'table',
  );
}

export function batchedFigures(run: GuardRun) {
  const { guarded, raw } = run;
  return {
    batched: run.batched.map((r) => ({
      phase: r.phase,
      clients: r.clients,
      ...(r.targetRate === undefined ? {} : { targetRate: round(r.targetRate, 0) }),
      appendsPerSecond: round(r.appendsPerSecond, 0),
      eventsPerSecond: round(r.eventsPerSecond, 0),
      ratioToRawCeiling: raw[0] ? round(r.eventsPerSecond / raw[0].eventsPerSecond, 3) : null,
      latencyMs: roundAll(r.latency),
      ok: r.ok,
      conflicts: r.conflicts,
      errors: r.errors,
      guard: roundAll(r.window.guard),
      cpuPercent: r.window.cpu,
      cpuUsPerEvent: cpuUsPerEvent(r.window.cpu, r.eventsPerSecond),
      redisScripts: r.window.redisScripts,
      idleMachineBefore: r.idleBefore ?? null,
      attempt: r.attempts ?? 1,
    })),
    single: run.single
      ? {
          rounds: run.single.rounds,
          guarded: { appends: run.single.guarded.appends, latencyMs: roundAll(run.single.guarded.latency) },
          raw: { transactions: run.single.raw.transactions, latencyMs: roundAll(run.single.raw.latency) },
          ratio: round(run.single.ratio, 3),
        }
      : null,
    cpuUsPerEvent: {
      guarded: guarded.map((r) => ({ clients: r.clients, ...cpuUsPerEvent(r.window.cpu, r.eventsPerSecond) })),
      raw: raw.map((r) => ({ batch: r.batch, ...cpuUsPerEvent(r.cpu, r.eventsPerSecond) })),
    },
  };
}
