import { CommandConflictError } from '../../pipeline/errors.js';
import type { HttpLoadClient } from '../../verify/load/httpLoad.js';
import { closedLoop } from '../support/closedLoop.js';
import { type CpuMeter, cpuRecord, CpuMeter as Meter } from '../support/cpuMeter.js';
import { formatNumber, round } from '../support/figures.js';
import { summarize } from '../support/latency.js';
import { leastDisturbed, type NoiseSettings } from '../support/quiet.js';
import { progress, sleep } from '../support/run.js';

/** The guard's command counters (Prometheus text), summed over the guards asked. */
export interface CommandCounters {
  conflicts: number;
  loadsFromLog: number;
  loadsFromCache: number;
  eventsRead: number;
}

function metric(text: string, name: string, label?: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    if (label !== undefined && !line.includes(label)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

export async function counters(clients: readonly HttpLoadClient[]): Promise<CommandCounters> {
  const sum: CommandCounters = { conflicts: 0, loadsFromLog: 0, loadsFromCache: 0, eventsRead: 0 };
  for (const c of clients) {
    const answer = await c.get('/metrics');
    if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
    sum.conflicts += metric(answer.body, 'kes_guard_command_conflicts_total');
    sum.loadsFromLog += metric(answer.body, 'kes_guard_command_state_loads_total', 'source="log"');
    sum.loadsFromCache += metric(answer.body, 'kes_guard_command_state_loads_total', 'source="cache"');
    sum.eventsRead += metric(answer.body, 'kes_guard_command_events_read_total');
  }
  return sum;
}

export function countersBetween(a: CommandCounters, b: CommandCounters): CommandCounters {
  return {
    conflicts: b.conflicts - a.conflicts,
    loadsFromLog: b.loadsFromLog - a.loadsFromLog,
    loadsFromCache: b.loadsFromCache - a.loadsFromCache,
    eventsRead: b.eventsRead - a.eventsRead,
  };
}

/** What one operation answered: ok (with the command's attempts), a 409 after the guard's retries, or an error. */
export type Outcome = { kind: 'ok'; attempts: number } | { kind: '409' } | { kind: 'error'; message: string };

export async function outcomeOf(op: () => Promise<{ attempts: number }>): Promise<Outcome> {
  try {
    const { attempts } = await op();
    return { kind: 'ok', attempts };
  } catch (error) {
    if (error instanceof CommandConflictError) return { kind: '409' };
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

export interface Measured {
  ok: number;
  latencies: number[];
  /** Sum of `attempts - 1` over the answers: decisions the compare-and-swap refused and the guard made again. */
  decidedAgain: number;
  conflicts409: number;
  errors: number;
  errorSample: string | undefined;
  elapsedMs: number;
  guard: CommandCounters;
  /** CPU per process, averaged over the halves. */
  cpu: Record<string, number>;
  idleBefore: number[];
  attempts: number[];
  /** The guards that served the load (their CPU is the guard's CPU per operation); default: every guard. */
  guardsUsed?: string[];
}

type Half = Omit<Measured, 'idleBefore' | 'attempts' | 'guardsUsed'>;
type KeptHalf = Half & { idle: number | undefined; attempt: number };

/** Where a half reads its CPU and the guards' counters. */
export interface Probe {
  cpu: CpuMeter;
  metricClients: readonly HttpLoadClient[];
}

/** `workers` closed-loop clients for one half of a configuration. */
async function half(
  workers: readonly (() => Promise<Outcome>)[],
  warmupMs: number,
  durationMs: number,
  probe: Probe,
): Promise<Half> {
  const h: Half = {
    ok: 0,
    latencies: [],
    decidedAgain: 0,
    conflicts409: 0,
    errors: 0,
    errorSample: undefined,
    elapsedMs: 0,
    guard: { conflicts: 0, loadsFromLog: 0, loadsFromCache: 0, eventsRead: 0 },
    cpu: {},
  };
  const w = await closedLoop({
    workers: workers.length,
    op: (i) => (workers[i] as () => Promise<Outcome>)(),
    record: async (outcome, latency) => {
      if (outcome.kind === 'ok') {
        h.ok += 1;
        h.latencies.push(latency);
        h.decidedAgain += outcome.attempts - 1;
      } else if (outcome.kind === '409') {
        h.conflicts409 += 1;
      } else {
        h.errors += 1;
        h.errorSample ??= outcome.message;
        await sleep(50); // an error answers at once: do not spin
      }
    },
    warmupMs,
    durationMs,
    window: async () => {
      const m0 = await counters(probe.metricClients);
      const c0 = probe.cpu.snapshot();
      return async () => {
        const c1 = probe.cpu.snapshot();
        return { m0, c0, c1, m1: await counters(probe.metricClients) };
      };
    },
  });
  h.elapsedMs = w.c1.at - w.c0.at;
  h.cpu = cpuRecord(Meter.between(w.c0, w.c1), 'bench', 'machine');
  h.guard = countersBetween(w.m0, w.m1);
  return h;
}

function merge(halves: readonly KeptHalf[]): Measured {
  const cpu: Record<string, number> = {};
  for (const h of halves) for (const [k, v] of Object.entries(h.cpu)) cpu[k] = (cpu[k] ?? 0) + v / halves.length;
  for (const k of Object.keys(cpu)) cpu[k] = round(cpu[k] as number, 0);
  const sum = (f: (h: KeptHalf) => number) => halves.reduce((s, h) => s + f(h), 0);
  return {
    ok: sum((h) => h.ok),
    latencies: halves.flatMap((h) => h.latencies),
    decidedAgain: sum((h) => h.decidedAgain),
    conflicts409: sum((h) => h.conflicts409),
    errors: sum((h) => h.errors),
    errorSample: halves.find((h) => h.errorSample !== undefined)?.errorSample,
    elapsedMs: sum((h) => h.elapsedMs),
    guard: {
      conflicts: sum((h) => h.guard.conflicts),
      loadsFromLog: sum((h) => h.guard.loadsFromLog),
      loadsFromCache: sum((h) => h.guard.loadsFromCache),
      eventsRead: sum((h) => h.guard.eventsRead),
    },
    cpu,
    idleBefore: halves.flatMap((h) => (h.idle === undefined ? [] : [h.idle])),
    attempts: halves.map((h) => h.attempt),
  };
}

/** One configuration of an interleaved comparison: its label and its closed-loop clients. */
export type Configuration = [label: string, workers: readonly (() => Promise<Outcome>)[], probe: Probe];

/**
 * Each configuration twice, for half of --duration: A B … then … B A, so drift over the run (other sessions'
 * work, the topic growing) falls on every configuration alike. Each half after a quiet machine, again while others
 * disturbed it.
 */
export async function interleaved(
  s: NoiseSettings & { durationMs: number; warmupMs: number },
  configs: readonly Configuration[],
): Promise<Measured[]> {
  const measureHalf = async ([label, workers, probe]: Configuration, which: string): Promise<KeptHalf> => {
    const kept = await leastDisturbed(
      s,
      `${label} ${which}`,
      () => half(workers, s.warmupMs, s.durationMs / 2, probe),
      (h) => h.cpu.others ?? 0,
      (h, noise) =>
        progress(
          `  ${label} ${which}: ${formatNumber(h.ok / (h.elapsedMs / 1000), 0)} ok/s, p50 ${formatNumber(summarize(h.latencies).p50, 1)} ms, others ${noise}%`,
        ),
    );
    return { ...kept.result, idle: kept.idleBefore, attempt: kept.attempt };
  };
  const halves = configs.map(() => [] as KeptHalf[]);
  for (let i = 0; i < configs.length; i++) halves[i]?.push(await measureHalf(configs[i] as Configuration, '(1/2)'));
  for (let i = configs.length - 1; i >= 0; i--) {
    halves[i]?.push(await measureHalf(configs[i] as Configuration, '(2/2)'));
  }
  return halves.map((h) => merge(h));
}
