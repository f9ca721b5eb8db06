import type { ReportRow } from '../../projectors/reports/runReport.js';
import type { LedgerReport } from '../check/ledgerCheck.js';
import type { BankWorkload } from './bankWorkload.js';
import type { DemoChecks } from './demoChecks.js';
import type { DemoService } from './demoServices.js';
import type { Drain } from './waitForDrain.js';

/** What `kes demo` found: printed as JSON with `--format json` (the keys in this order), and as the summary table. */
export interface DemoResult {
  runId: string;
  ok: boolean;
  services: DemoService[];
  workload: {
    seconds: number;
    commands: number;
    commandsPerS: number;
    ok: number;
    rejected: Record<string, number>;
    conflictsRetried: number;
    conflictsSpent: number;
    errors: number;
    p50Ms: number;
    p99Ms: number;
    transfersRequested: number;
  };
  transfers: Record<string, number>;
  drainSeconds: number;
  check: { violations: number; committedEvents: number; loggedAppends: number };
  ledger: LedgerReport;
  /** External money per currency as the clients were told (the ledger check holds the log to it). */
  acknowledged: Record<string, { externalIn: number; externalOut: number }>;
  reports: Record<string, ReportRow[]>;
  historyFile: string;
}

export interface DemoFindings {
  runId: string;
  services: DemoService[];
  workload: BankWorkload;
  /** How long the clients sent commands. */
  seconds: number;
  drain: Drain;
  checks: DemoChecks;
  reports: Record<string, ReportRow[]>;
  historyFile: string;
}

/** The run's figures and verdict: ok when both checks find nothing and every transfer finished. */
export function demoResult({
  runId,
  services,
  workload,
  seconds,
  drain,
  checks,
  reports,
  historyFile,
}: DemoFindings): DemoResult {
  const { check, ledger } = checks;
  const latencies = [...workload.stats.latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    runId,
    ok: check.violations.length === 0 && ledger.violations.length === 0 && drain.unfinished === 0,
    services,
    workload: {
      seconds,
      commands: workload.stats.commands,
      commandsPerS: workload.stats.commands / seconds,
      ok: workload.stats.ok,
      rejected: Object.fromEntries(workload.stats.rejected),
      conflictsRetried: workload.stats.conflictsRetried,
      conflictsSpent: workload.stats.conflictsSpent,
      errors: workload.stats.errors,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      transfersRequested: workload.stats.transfersRequested,
    },
    transfers: drain.byStatus,
    drainSeconds: drain.seconds,
    check: {
      violations: check.violations.length,
      committedEvents: check.summary.committedEvents,
      loggedAppends: workload.attempts.length,
    },
    ledger,
    acknowledged: Object.fromEntries(workload.acknowledged),
    reports,
    historyFile,
  };
}
