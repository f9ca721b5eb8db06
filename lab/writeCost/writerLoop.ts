import { closedLoop } from '../../bench/support/closedLoop.js';
import { CpuMeter, cpuRecord } from '../../bench/support/cpuMeter.js';
import { summarize } from '../../bench/support/latency.js';
import { CLIENT, type PointFigures } from './point.js';

/** One writer's call: how many appends it wrote (0 when it failed). */
export type WriterCall = (writer: number) => Promise<number>;

/**
 * `writers` closed-loop writers calling `call` for `warmupMs` unmeasured, then `durationMs` measured: appends/s,
 * the latency of the successful calls, and the CPU of the accounted processes over the window.
 */
export async function measureWriters(args: {
  writers: number;
  call: WriterCall;
  warmupMs: number;
  durationMs: number;
  cpu: CpuMeter;
}): Promise<PointFigures> {
  let appends = 0;
  let errors = 0;
  const latencies: number[] = [];
  const window = await closedLoop({
    workers: args.writers,
    op: (w) => args.call(w),
    record: (written, latency) => {
      if (written > 0) {
        appends += written;
        latencies.push(latency);
      } else errors += 1;
    },
    warmupMs: args.warmupMs,
    durationMs: args.durationMs,
    window: async () => {
      const cpu0 = args.cpu.snapshot();
      return async () => ({ cpu0, cpu1: args.cpu.snapshot() });
    },
  });
  const seconds = (window.cpu1.at - window.cpu0.at) / 1000;
  return {
    appendsPerSecond: appends / seconds,
    latency: summarize(latencies),
    cpu: cpuRecord(CpuMeter.between(window.cpu0, window.cpu1), CLIENT, 'machine (all)'),
    errors,
  };
}
