import type { AppendAttempt } from '../../verify/history/history.js';
import { measureStall } from '../../verify/load/stall.js';

/**
 * The figures of the recovery experiment, from the clients' attempts (the history log): pure, unit-tested.
 */

const isNotReady = (a: AppendAttempt) => a.outcome.status === 'rejected' && a.outcome.httpStatus === 503;

/** What clients saw after Redis was wiped: 503s from the first refusal until an append was written again. */
export interface RefusalWindow {
  /** When the first 503 after the wipe was answered (epoch ms). */
  firstRefusalMs: number;
  /** When the first append that started after that refusal was answered as written. */
  recoveredMs: number;
  /** recoveredMs - firstRefusalMs: the seconds of 503s a client sees. */
  windowMs: number;
  /** 503 answers from the wipe until recoveredMs. */
  refused: number;
  /** From the wipe itself to recoveredMs (Redis restarting and the guards noticing included). */
  faultToRecoveredMs: number;
}

/** undefined when no 503 followed the fault, or no append was written after the first one. */
export function refusalWindow(attempts: readonly AppendAttempt[], faultMs: number): RefusalWindow | undefined {
  let first: number | undefined;
  for (const a of attempts)
    if (isNotReady(a) && a.endMs >= faultMs && (first === undefined || a.endMs < first)) first = a.endMs;
  if (first === undefined) return undefined;
  let recovered: number | undefined;
  for (const a of attempts)
    if (a.outcome.status === 'ok' && a.startMs >= first && (recovered === undefined || a.endMs < recovered))
      recovered = a.endMs;
  if (recovered === undefined) return undefined;
  const until = recovered;
  const refused = attempts.filter((a) => isNotReady(a) && a.endMs >= faultMs && a.endMs <= until).length;
  return {
    firstRefusalMs: first,
    recoveredMs: recovered,
    windowMs: recovered - first,
    refused,
    faultToRecoveredMs: recovered - faultMs,
  };
}

/** How long the streams stalled around a guard's death. */
export interface StreamStall {
  /** The longest time one stream went without a written append, in [fromMs, toMs). */
  worstGapMs: number;
  worstStream: string | undefined;
  /** Streams whose longest gap in the window was over `overMs`. */
  streamsOver: number;
  streams: number;
}

/**
 * Per stream, the longest gap between written appends in [fromMs, toMs) (measureStall), and the worst of them:
 * a dead guard's reservations lock only the streams it held, so the stall shows on those and hides in a total.
 * Only streams written at least once before `toMs` count (a stream nobody writes does not stall).
 */
export function streamStall(
  attempts: readonly AppendAttempt[],
  fromMs: number,
  toMs: number,
  overMs: number,
): StreamStall {
  const okTimes = new Map<string, number[]>();
  const active = new Set<string>();
  for (const a of attempts) {
    if (a.outcome.status !== 'ok') continue;
    if (a.endMs < toMs) active.add(a.stream);
    const list = okTimes.get(a.stream);
    if (list) list.push(a.endMs);
    else okTimes.set(a.stream, [a.endMs]);
  }
  let worstGapMs = 0;
  let worstStream: string | undefined;
  let streamsOver = 0;
  for (const stream of active) {
    const gap = measureStall(okTimes.get(stream) ?? [], fromMs, toMs).longestGapMs;
    if (gap > overMs) streamsOver += 1;
    if (gap > worstGapMs) {
      worstGapMs = gap;
      worstStream = stream;
    }
  }
  return { worstGapMs, worstStream, streamsOver, streams: active.size };
}

/** The guard's own account of a rebuild: its warn line 'guard state rebuilt' with its fields. */
export interface RebuildLine {
  eventsApplied: number;
  ms: number;
}

export function parseRebuildLine(line: string): RebuildLine | undefined {
  if (!line.includes('guard state rebuilt')) return undefined;
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  try {
    const fields = JSON.parse(line.slice(start)) as { eventsApplied?: unknown; ms?: unknown };
    if (typeof fields.eventsApplied !== 'number' || typeof fields.ms !== 'number') return undefined;
    return { eventsApplied: fields.eventsApplied, ms: fields.ms };
  } catch {
    return undefined;
  }
}

/** Least squares y = intercept + slope·x; undefined for fewer than two distinct x. */
export function linearFit(
  points: readonly (readonly [number, number])[],
): { slope: number; intercept: number } | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

export interface WipeFigure {
  /** Events in the log the rebuild had to read (the guard's count, else the pre-load's). */
  logEvents: number;
  windowMs: number;
  refused: number;
}

export interface KillFigure {
  leaseMs: number;
  stallMs: number;
  beforeMs: number;
  resolves: number;
  /** Streams whose gap after the kill was over half the lease, of the streams written. */
  streamsStalled: number;
  streams: number;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The paragraph under the figures, from the figures. */
export function recoveryReading(
  wipes: readonly WipeFigure[],
  kills: readonly KillFigure[],
  violations: number,
): string {
  const out: string[] = [];
  if (wipes.length > 0) {
    const list = wipes.map(
      (w) => `${sec(w.windowMs)} with ${int(w.logEvents)} events (${int(w.refused)} appends refused)`,
    );
    out.push(`When Redis was wiped under load, clients were answered 503 for ${list.join(', ')}.`);
    const fit = linearFit(wipes.map((w) => [w.logEvents, w.windowMs]));
    if (fit && fit.slope > 0)
      out.push(
        `That grows with the log the guard must read back: about ${sec(fit.slope * 100_000)} per 100,000 events on top of ` +
          `${sec(Math.max(0, fit.intercept))} of fixed cost (noticing the restart, fencing every slot, writers re-initialised), ` +
          `so a log of ${int(1_000_000)} events would refuse writes for about ${sec(fit.intercept + fit.slope * 1_000_000)} on this machine.`,
      );
    else if (fit)
      out.push(
        'Over these sizes the window did not grow with the log: the fixed cost of noticing the restart and fencing every slot dominates the reading back.',
      );
  }
  if (kills.length > 0) {
    const list = kills.map(
      (k) =>
        `${sec(k.stallMs)} with a ${sec(k.leaseMs)} lease (${Math.round((100 * k.stallMs) / k.leaseMs)}% of it; ${k.resolves} reservation${k.resolves === 1 ? '' : 's'} resolved by the survivor)`,
    );
    out.push(`A guard killed -9 stalled the streams it held for ${list.join(', ')}.`);
    const quiet = kills.filter((k) => k.resolves === 0);
    const before = Math.max(...kills.map((k) => k.beforeMs));
    out.push(
      quiet.length === kills.length
        ? 'The dead guard held no reservation when it died in any run, so nothing had to wait for a lease: writers simply moved to the survivor.'
        : `A dead guard's reservations keep their streams locked until they expire and the survivor resolves them, so the stall follows the lease (the longest gap on any stream before the kill was ${sec(before)}).`,
    );
    const spread = kills.map((k) => `${k.streamsStalled} of ${k.streams}`);
    out.push(
      `Streams stalled over half the lease: ${spread.join(', ')}; the others went on through the survivor, since their writers moved to it at once.`,
    );
  }
  out.push(
    violations === 0
      ? 'The history checker found 0 violations over everything written: nothing acknowledged was lost or written twice across the wipes and kills.'
      : `The history checker found ${violations} violation(s): see the table.`,
  );
  return out.join(' ');
}
