import type { CheckSummary, Violation } from '../history/checkTypes.js';
import { measureStall } from '../load/stall.js';
import type { FaultKind } from './faultSchedule.js';
import type { InjectedFault } from './injectors.js';

/**
 * What a soak run adds up to, from what it recorded: the clients' counts, every fault carried out, the times of the
 * successful answers, the guards' rebuilds, the checkers' verdicts. Pure, so that the arithmetic (stall seconds,
 * the share of stall after each kind of fault) is tested without services.
 */
export interface SoakRecord {
  seed: number;
  kinds: readonly FaultKind[];
  startMs: number;
  /** When the clients stopped. */
  loadEndMs: number;
  /** When the checks ended. */
  endMs: number;
  appends: {
    acknowledged: number;
    logical: number;
    attempts: number;
    conflicts: number;
    unknown: number;
    rejected: number;
  };
  faults: readonly InjectedFault[];
  /** When each successful answer arrived (ms since the epoch). */
  okTimesMs: readonly number[];
  rebuilds: { count: number; eventsApplied: number; ms: number };
  watchdogRestarts: Record<string, number>;
  check: { summary: CheckSummary; violations: readonly Violation[] } | undefined;
  /** Why the check could not run, when it could not. */
  checkError?: string;
}

export interface FaultFigures {
  kind: FaultKind;
  planned: number;
  happened: number;
  /** Empty 100 ms windows from each fault of this kind to the next fault (or the end of the load). */
  stallMs: number;
  longestGapMs: number;
}

export interface SoakSummary {
  seed: number;
  seconds: number;
  loadSeconds: number;
  appendsAcknowledged: number;
  appendsPerSecond: number;
  logicalAppends: number;
  attempts: number;
  conflicts: number;
  unknown: number;
  rejected: number;
  faultsPlanned: number;
  faultsHappened: number;
  faults: FaultFigures[];
  /** Empty 100 ms windows over the whole load: seconds without a single successful append. */
  stallSeconds: number;
  longestGapMs: number;
  rebuilds: SoakRecord['rebuilds'];
  watchdogRestarts: Record<string, number>;
  committedEvents: number | undefined;
  violations: number;
  violationsByInvariant: Record<string, number>;
  /** The first violations, in the checker's words. */
  firstViolations: string[];
  checkError?: string;
  /** Kinds asked for that never happened. */
  missingKinds: FaultKind[];
}

export function summarizeSoak(r: SoakRecord): SoakSummary {
  const loadMs = Math.max(1, r.loadEndMs - r.startMs);
  const whole = measureStall(r.okTimesMs, r.startMs, r.loadEndMs);
  const sorted = [...r.faults].sort((a, b) => a.startMs - b.startMs);
  const figures = new Map<FaultKind, FaultFigures>(
    r.kinds.map((kind) => [kind, { kind, planned: 0, happened: 0, stallMs: 0, longestGapMs: 0 }]),
  );
  sorted.forEach((f, i) => {
    const entry = figures.get(f.kind) ?? { kind: f.kind, planned: 0, happened: 0, stallMs: 0, longestGapMs: 0 };
    figures.set(f.kind, entry);
    entry.planned += 1;
    if (f.happened) entry.happened += 1;
    const until = Math.min(sorted[i + 1]?.startMs ?? r.loadEndMs, r.loadEndMs);
    if (until > f.startMs) {
      const stall = measureStall(r.okTimesMs, f.startMs, until);
      entry.stallMs += stall.emptyMs;
      entry.longestGapMs = Math.max(entry.longestGapMs, stall.longestGapMs);
    }
  });
  const faults = [...figures.values()];
  const violations = r.check?.violations ?? [];
  return {
    seed: r.seed,
    seconds: round1((r.endMs - r.startMs) / 1000),
    loadSeconds: round1(loadMs / 1000),
    appendsAcknowledged: r.appends.acknowledged,
    appendsPerSecond: Math.round((r.appends.acknowledged / loadMs) * 1000),
    logicalAppends: r.appends.logical,
    attempts: r.appends.attempts,
    conflicts: r.appends.conflicts,
    unknown: r.appends.unknown,
    rejected: r.appends.rejected,
    faultsPlanned: r.faults.length,
    faultsHappened: r.faults.filter((f) => f.happened).length,
    faults,
    stallSeconds: round1(whole.emptyMs / 1000),
    longestGapMs: whole.longestGapMs,
    rebuilds: r.rebuilds,
    watchdogRestarts: r.watchdogRestarts,
    committedEvents: r.check?.summary.committedEvents,
    violations: violations.length,
    violationsByInvariant: r.check?.summary.violationsByInvariant ?? {},
    firstViolations: violations.slice(0, 20).map((v) => `invariant ${v.invariant}: ${v.stream ?? ''} ${v.detail}`),
    ...(r.checkError === undefined ? {} : { checkError: r.checkError }),
    missingKinds: faults.filter((f) => f.happened === 0).map((f) => f.kind),
  };
}

/** A run passes when the checks ran and found nothing. */
export function soakPassed(s: SoakSummary): boolean {
  return s.checkError === undefined && s.violations === 0;
}

export function renderSoakSummary(s: SoakSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `soak (seed ${s.seed}): ${s.seconds} s in all, ${s.loadSeconds} s of load`,
    `  appends acknowledged  ${n(s.appendsAcknowledged)} (${n(s.appendsPerSecond)}/s)`,
    `  logical appends       ${n(s.logicalAppends)} (conflicts ${n(s.conflicts)}, rejected ${n(s.rejected)}, no answer after every retry ${n(s.unknown)})`,
    `  attempts              ${n(s.attempts)}`,
    `  faults                ${n(s.faultsHappened)} happened of ${n(s.faultsPlanned)} planned`,
  ];
  for (const f of s.faults) {
    lines.push(
      `    ${f.kind.padEnd(24)} ${String(f.happened).padStart(4)} of ${String(f.planned).padEnd(4)} stall after it ${(f.stallMs / 1000).toFixed(1)} s (longest gap ${n(f.longestGapMs)} ms)`,
    );
  }
  lines.push(
    `  stall                 ${s.stallSeconds} s without a successful append (100 ms windows); longest gap ${n(s.longestGapMs)} ms`,
    `  rebuilds              ${s.rebuilds.count} (${n(s.rebuilds.eventsApplied)} events read back, ${(s.rebuilds.ms / 1000).toFixed(1)} s)`,
    `  unplanned restarts    ${
      Object.entries(s.watchdogRestarts)
        .map(([name, count]) => `${name} ${count}`)
        .join(', ') || 'none'
    }`,
    `  committed events      ${s.committedEvents === undefined ? 'not read' : n(s.committedEvents)}`,
  );
  if (s.checkError !== undefined) lines.push(`  check                 did not run: ${s.checkError}`);
  const byInvariant = Object.entries(s.violationsByInvariant)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${/^\d$/.test(kind) ? `invariant ${kind}` : kind} ${count}`)
    .join(', ');
  lines.push(`  violations            ${s.violations}${byInvariant ? ` (${byInvariant})` : ''}`);
  for (const v of s.firstViolations) lines.push(`    ${v}`);
  if (s.missingKinds.length > 0) lines.push(`  never happened        ${s.missingKinds.join(', ')}`);
  lines.push(soakPassed(s) ? 'PASS: no violations' : 'FAIL');
  return lines.join('\n');
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
