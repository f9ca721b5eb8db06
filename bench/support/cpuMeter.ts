import { performance } from 'node:perf_hooks';
import { round } from './figures.js';
import { machinePercent, machineSeconds, statCpuSeconds } from './machine.js';

/** A process whose CPU a phase accounts, by the name its column gets. Processes of one name are summed. */
export interface Accounted {
  name: string;
  pid: number;
}

export interface CpuSnapshot {
  at: number;
  /** This process, all threads. */
  self: number;
  /** This process's main thread: the JS event loop. */
  mainThread: number;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
  per: Map<string, number>;
  machine: { busy: number; total: number };
}

/** CPU between two snapshots, in % of one core (200% = both cores of a 2-core machine), each figure rounded. */
export interface CpuShare {
  self: number;
  mainThread: number;
  /** Share of the wall time the event loop was busy (0..1). */
  eventLoopUtilization: number;
  processes: Record<string, number>;
  /** The machine minus this process and the accounted ones: a large figure means a noisy measurement. */
  others: number;
  machine: number;
}

/** CPU from /proc of this process and of every process that matters to a phase; `processes` is asked each time. */
export class CpuMeter {
  constructor(private readonly processes: () => readonly Accounted[]) {}

  snapshot(): CpuSnapshot {
    const own = process.cpuUsage();
    const per = new Map<string, number>();
    for (const { name, pid } of this.processes()) {
      const s = statCpuSeconds(`/proc/${pid}/stat`);
      if (s !== undefined) per.set(name, (per.get(name) ?? 0) + s);
    }
    return {
      at: performance.now(),
      self: (own.user + own.system) / 1e6,
      mainThread: statCpuSeconds(`/proc/self/task/${process.pid}/stat`) ?? 0,
      elu: performance.eventLoopUtilization(),
      per,
      machine: machineSeconds(),
    };
  }

  static between(a: CpuSnapshot, b: CpuSnapshot): CpuShare {
    const wall = (b.at - a.at) / 1000;
    const pct = (s: number) => round((100 * s) / wall, 0);
    const processes: Record<string, number> = {};
    for (const [name, end] of b.per) processes[name] = pct(end - (a.per.get(name) ?? end));
    const self = pct(b.self - a.self);
    const machine = machinePercent(a.machine, b.machine);
    const ours = self + Object.values(processes).reduce((x, y) => x + y, 0);
    return {
      self,
      mainThread: pct(b.mainThread - a.mainThread),
      eventLoopUtilization: round(performance.eventLoopUtilization(b.elu, a.elu).utilization, 2),
      processes,
      others: round(Math.max(0, machine - ours), 0),
      machine: round(machine, 0),
    };
  }
}

/** One record per process, in column order: this process first, then the accounted ones, others, the machine. */
export function cpuRecord(c: CpuShare, selfName: string, machineName: string): Record<string, number> {
  return { [selfName]: c.self, ...c.processes, others: c.others, [machineName]: c.machine };
}
