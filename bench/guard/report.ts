import { type Column, renderRows } from '../../pipeline/output/textOutput.js';
import { type CheckReport, renderReport } from '../../verify/history/report.js';
import { formatNumber, round, roundAll, type Verdict } from '../support/figures.js';
import { headerLine, printFigures, settingsLine, verdictTable } from '../support/report.js';
import { batchedFigures, batchedRows, batchedVerdicts, cpuPerEventTable } from './batchedReport.js';
import { type GuardRun, mostClientsOf } from './guardRun.js';
import type { Noted } from './load.js';
import { loadFigures, P99_TARGET_MS, RATIO_TARGET, type Row } from './targets.js';

const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);

const columns: Column<Row>[] = [
  { header: 'phase', value: (r) => r.phase },
  { header: 'clients', value: (r) => r.clients },
  { header: 'appends/s', value: (r) => fmt(r.appendsPerSecond, 0) },
  { header: 'events/s', value: (r) => fmt(r.eventsPerSecond, 0) },
  { header: 'p50 ms', value: (r) => fmt(r.p50) },
  { header: 'p99 ms', value: (r) => fmt(r.p99) },
  { header: 'max ms', value: (r) => fmt(r.max) },
  { header: 'conflicts', value: (r) => (r.conflicts === undefined ? '—' : r.conflicts) },
  { header: 'errors', value: (r) => (r.errors === undefined ? '—' : r.errors) },
  { header: 'mean group commit', value: (r) => fmt(r.groupCommit, Number.isInteger(r.groupCommit) ? 0 : 1) },
  { header: 'mean commit ms', value: (r) => fmt(r.commitMs) },
];

export function verdictsOf(run: GuardRun): { verdicts: Verdict[]; ratio: number | undefined } {
  const { options, floor, raw, half } = run;
  const most = mostClientsOf(run);
  const ceiling = raw[0];
  const ratio = most && ceiling ? most.eventsPerSecond / ceiling.eventsPerSecond : undefined;
  const verdicts: Verdict[] = [
    {
      target: `guarded at ${most?.clients ?? '?'} clients ≥ ${RATIO_TARGET} × raw ceiling`,
      measured:
        ratio === undefined
          ? 'raw ceiling skipped'
          : `${fmt(most?.eventsPerSecond, 0)} / ${fmt(ceiling?.eventsPerSecond, 0)} events/s = ${ratio.toFixed(2)}`,
      result: ratio === undefined ? 'n/a' : ratio >= RATIO_TARGET ? 'PASS' : 'FAIL',
    },
    {
      target: `p99 < ${P99_TARGET_MS} ms at ${options.openRate === undefined ? 'half of the peak rate' : 'the --open-rate'}`,
      measured: half ? `p99 ${fmt(half.latency.p99)} ms at ${fmt(half.targetRate, 0)} appends/s` : 'not run',
      result: half === undefined ? 'n/a' : half.latency.p99 < P99_TARGET_MS ? 'PASS' : 'FAIL',
    },
  ];
  verdicts.push(...batchedVerdicts(run));
  if (floor && ceiling) {
    verdicts.push({
      target: `(info) HTTP floor at ${floor.clients} clients / raw ceiling: what a guard that did nothing would reach`,
      measured: `${fmt(floor.requestsPerSecond, 0)} / ${fmt(ceiling.eventsPerSecond, 0)} = ${(floor.requestsPerSecond / ceiling.eventsPerSecond).toFixed(2)}`,
      result: 'n/a',
    });
  }
  if (floor && most) {
    verdicts.push({
      target: `(info) guarded / HTTP floor at ${most.clients} clients`,
      measured: (most.appendsPerSecond / floor.requestsPerSecond).toFixed(2),
      result: 'n/a',
    });
  }
  for (const r of raw.slice(1)) {
    verdicts.push({
      target: `(info) guarded at ${most?.clients} clients / raw at ${r.batch} events per transaction`,
      measured: most ? (most.eventsPerSecond / r.eventsPerSecond).toFixed(2) : '—',
      result: 'n/a',
    });
  }
  return { verdicts, ratio };
}

function rowsOf(run: GuardRun): Row[] {
  const { guarded, floor, raw, half } = run;
  const ceiling = raw[0];
  const rows: Row[] = guarded.map((r) => ({
    phase: 'guarded, closed loop',
    clients: String(r.clients),
    ...loadFigures(r, r.rejected + r.indeterminate),
  }));
  if (floor) {
    rows.push({
      phase: 'HTTP floor (no-op server)',
      clients: String(floor.clients),
      appendsPerSecond: floor.requestsPerSecond,
      p50: floor.latency.p50,
      p99: floor.latency.p99,
      max: floor.latency.max,
    });
  }
  for (const r of raw) {
    rows.push({
      phase: `raw kafkajs ${r === ceiling ? 'ceiling' : ''} (${r.batch}/tx)`.replace('  ', ' '),
      clients: `${r.producers} producers`,
      eventsPerSecond: r.eventsPerSecond,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      groupCommit: r.batch,
      commitMs: r.latency.mean,
    });
  }
  if (half) {
    rows.push({
      phase: `half peak, open loop @ ${fmt(half.targetRate, 0)}/s`,
      clients: `≤ ${half.pool} in flight`,
      appendsPerSecond: half.appendsPerSecond,
      eventsPerSecond: half.eventsPerSecond,
      p50: half.latency.p50,
      p99: half.latency.p99,
      max: half.latency.max,
      conflicts: half.conflicts,
      errors: half.rejected + half.indeterminate,
      groupCommit: half.window.guard.meanGroupCommit,
      commitMs: half.window.guard.meanCommitMs,
    });
  }
  rows.push(...batchedRows(run));
  return rows;
}

type CpuPhase = { phase: string; cpu: Record<string, number> };

function cpuTable(run: GuardRun): string {
  const { guarded, floor, raw, half } = run;
  const withIdle = (cpu: Record<string, number>, r: Noted) => ({
    ...cpu,
    ...(r.idleBefore === undefined ? {} : { 'idle machine before': r.idleBefore }),
    ...(r.attempts === undefined ? {} : { attempt: r.attempts }),
  });
  const cpuPhases: CpuPhase[] = [
    ...guarded.map((r) => ({ phase: `guarded ${r.clients}`, cpu: withIdle(r.window.cpu, r) })),
    ...(floor ? [{ phase: 'HTTP floor', cpu: withIdle(floor.cpu, floor) }] : []),
    ...raw.map((r) => ({ phase: `raw ${r.batch}/tx`, cpu: withIdle(r.cpu, r) })),
    ...(half ? [{ phase: 'half peak', cpu: withIdle(half.window.cpu, half) }] : []),
    ...run.batched.map((r) => ({ phase: r.phase, cpu: withIdle(r.window.cpu, r) })),
  ];
  const processNames = [...new Set(cpuPhases.flatMap((p) => Object.keys(p.cpu)))];
  return renderRows(
    cpuPhases,
    [
      { header: 'CPU % of one core', value: (p) => p.phase },
      ...processNames.map((name) => ({ header: name, value: (p: CpuPhase) => p.cpu[name] })),
    ],
    'table',
  );
}

function diagnosticsTable(run: GuardRun): string {
  const ofWindow = (phase: string, w: (typeof run.guarded)[number]['window']) => ({
    phase,
    commits: w.guard.commits,
    serverAppendMs: w.guard.meanServerAppendMs,
    serverP99Ms: w.guard.p99ServerAppendMs,
    commitP99Ms: w.guard.p99CommitMs,
    requeued: w.guard.requeued,
    redis: w.redisScripts,
  });
  const diagnostics = [
    ...run.guarded.map((r) => ofWindow(`guarded ${r.clients}`, r.window)),
    ...(run.half ? [ofWindow('half peak', run.half.window)] : []),
    ...run.batched.map((r) => ofWindow(r.phase, r.window)),
  ];
  type Diag = (typeof diagnostics)[number];
  const diagColumns: Column<Diag>[] = [
    { header: 'phase', value: (d) => d.phase },
    { header: 'group commits', value: (d) => d.commits },
    { header: 'mean in-guard request ms', value: (d) => fmt(d.serverAppendMs) },
    { header: 'in-guard p99 ms', value: (d) => fmt(d.serverP99Ms) },
    { header: 'group commit p99 ms', value: (d) => fmt(d.commitP99Ms) },
    { header: 'requeued', value: (d) => d.requeued },
    { header: 'Redis scripts/s', value: (d) => d.redis.callsPerSecond },
    { header: 'Redis µs/script', value: (d) => fmt(d.redis.usecPerCall) },
  ];
  return renderRows(diagnostics, diagColumns, 'table');
}

export function printReport(
  run: GuardRun,
  head: { runDir: string; machine: Record<string, string | number>; settings: Record<string, string | number> },
  check: CheckReport | undefined,
): void {
  const { options, guarded, floor, raw, half } = run;
  const { verdicts, ratio } = verdictsOf(run);
  const out = {
    run: {
      id: run.id,
      runDir: head.runDir,
      machine: head.machine,
      settings: head.settings,
      durationS: options.durationMs / 1000,
      warmupS: options.warmupMs / 1000,
      streams: options.streams,
      partitions: run.partitions,
    },
    guarded: guarded.map((r) => ({
      clients: r.clients,
      appendsPerSecond: round(r.appendsPerSecond, 0),
      eventsPerSecond: round(r.eventsPerSecond, 0),
      latencyMs: roundAll(r.latency),
      ok: r.ok,
      conflicts: r.conflicts,
      rejected: r.rejected,
      indeterminate: r.indeterminate,
      guard: roundAll(r.window.guard),
      cpuPercent: r.window.cpu,
      redisScripts: r.window.redisScripts,
      idleMachineBefore: r.idleBefore ?? null,
      attempt: r.attempts ?? 1,
    })),
    raw: raw.map((r) => ({
      batch: r.batch,
      batchSource: r.batchSource,
      producers: r.producers,
      eventsPerSecond: round(r.eventsPerSecond, 0),
      transactions: r.transactions,
      transactionLatencyMs: roundAll(r.latency),
      meanBuildMs: round(r.meanBuildMs, 2),
      cpuPercent: r.cpu,
      idleMachineBefore: r.idleBefore ?? null,
      attempt: r.attempts ?? 1,
    })),
    httpFloor: floor
      ? {
          clients: floor.clients,
          requestsPerSecond: round(floor.requestsPerSecond, 0),
          latencyMs: roundAll(floor.latency),
          clientUsPerRequest: round(floor.clientUsPerRequest, 0),
          serverUsPerRequest: round(floor.serverUsPerRequest, 0),
          cpuPercent: floor.cpu,
          idleMachineBefore: floor.idleBefore ?? null,
          attempt: floor.attempts ?? 1,
        }
      : null,
    ratio: ratio === undefined ? null : round(ratio, 3),
    halfPeak: half
      ? {
          targetRate: round(half.targetRate, 0),
          appendsPerSecond: round(half.appendsPerSecond, 0),
          latencyMs: roundAll(half.latency),
          pool: half.pool,
          scheduled: half.scheduled,
          ok: half.ok,
          conflicts: half.conflicts,
          rejected: half.rejected,
          indeterminate: half.indeterminate,
          poolWaits: half.poolWaits,
          late: half.late,
          maxIssueLagMs: round(half.maxIssueLagMs, 1),
          guard: roundAll(half.window.guard),
          cpuPercent: half.window.cpu,
          redisScripts: half.window.redisScripts,
          idleMachineBefore: half.idleBefore ?? null,
          attempt: half.attempts ?? 1,
        }
      : null,
    ...batchedFigures(run),
    targets: verdicts,
    check: check ? { violations: check.violations.length, summary: check.summary, notChecked: check.notChecked } : null,
  };
  printFigures(
    out,
    options.format === 'json',
    () => {
      const lines = [
        headerLine('kes guard benchmark', run.id, head.machine),
        `streams ${options.streams}, ${run.partitions} partitions, ${options.durationMs / 1000} s measured per phase after ${options.warmupMs / 1000} s warm-up; 1 MoneyDeposited event per append`,
        settingsLine(head.settings),
        renderRows(rowsOf(run), columns, 'table'),
        'raw rows: p50/p99/max and mean commit ms are per transaction (begin → sendBatch → commit); group commit = events per transaction',
        floor
          ? `HTTP floor row: the same client and clients against a fastify server that answers at once (client ${fmt(floor.clientUsPerRequest, 0)} µs + server ${fmt(floor.serverUsPerRequest, 0)} µs of CPU per request)`
          : '',
        verdictTable(verdicts),
      ];
      if (half) {
        lines.push(
          `half peak: ${half.scheduled} appends scheduled in the window, ${half.poolWaits} waited for a free slot of the pool, ` +
            `${half.late} issued ≥ 5 ms late (max ${fmt(half.maxIssueLagMs)} ms); latency counts from the scheduled time`,
        );
      }
      lines.push(cpuTable(run), cpuPerEventTable(run), diagnosticsTable(run));
      if (check) lines.push(renderReport(check, 'table'));
      return lines.filter((l) => l !== '');
    },
    options.jsonOut,
  );
}
