import type { CpuShare } from '../support/cpuMeter.js';

/** CPU of a phase, in % of one core (200% = both cores of a 2-core machine): the shared meter's share, split the bench's way. */
export interface PhaseCpu {
  /** The bench process's main thread: kafkajs, decoding, rows, the JS side of inserts. */
  benchMainThread: number;
  /** The bench process's other threads: the embedded ClickHouse (chdb) and libuv's pool. */
  benchOtherThreads: number;
  /** Share of the wall time the event loop was busy (0..1). */
  eventLoopUtilization: number;
  processes: Record<string, number>;
  others: number;
  machine: number;
}

export function phaseCpu(c: CpuShare): PhaseCpu {
  return {
    benchMainThread: c.mainThread,
    benchOtherThreads: Math.max(0, c.self - c.mainThread),
    eventLoopUtilization: c.eventLoopUtilization,
    processes: c.processes,
    others: c.others,
    machine: c.machine,
  };
}

export function cpuLine(c: PhaseCpu): string {
  const procs = Object.entries(c.processes)
    .map(([k, v]) => `${k} ${v}%`)
    .join(', ');
  return (
    `bench main thread ${c.benchMainThread}% (event loop busy ${Math.round(c.eventLoopUtilization * 100)}%), ` +
    `bench other threads ${c.benchOtherThreads}%${procs ? `, ${procs}` : ''}, others ${c.others}%, machine ${c.machine}% of one core`
  );
}

/** CPU of the bench process per event, in µs: its main thread, and all its threads. */
export function usPerEvent(c: PhaseCpu, seconds: number, events: number): { main: number; bench: number } {
  const us = (pct: number) => ((pct / 100) * seconds * 1e6) / Math.max(1, events);
  return { main: us(c.benchMainThread), bench: us(c.benchMainThread + c.benchOtherThreads) };
}
