import { sleep } from './run.js';

/** Opened when the measured window begins (snapshots of CPU, metrics), closed when it ends (the figures). */
export type MeasuredWindow<W> = () => Promise<() => Promise<W>>;

/**
 * `workers` closed-loop clients: each starts its next operation as soon as the previous one is answered. After
 * `warmupMs`, operations answered inside the window of `durationMs` go to `record` (awaited: it may pause a
 * worker); the answer is what the window's close returned.
 */
export async function closedLoop<R, W>(args: {
  workers: number;
  op: (worker: number) => Promise<R>;
  record: (result: R, latencyMs: number, worker: number) => void | Promise<void>;
  warmupMs: number;
  durationMs: number;
  window: MeasuredWindow<W>;
}): Promise<W> {
  let measuring = false;
  let stop = false;
  const loop = async (w: number) => {
    while (!stop) {
      const started = performance.now();
      const r = await args.op(w);
      const latency = performance.now() - started;
      if (measuring) await args.record(r, latency, w);
    }
  };
  const loops = Array.from({ length: args.workers }, (_, w) => loop(w));
  await sleep(args.warmupMs);
  const close = await args.window();
  measuring = true;
  await sleep(args.durationMs);
  measuring = false;
  const window = await close();
  stop = true;
  await Promise.all(loops);
  return window;
}

/** A window that measures wall time alone, in ms. */
export const wallClock: MeasuredWindow<number> = async () => {
  const t0 = performance.now();
  return async () => performance.now() - t0;
};
