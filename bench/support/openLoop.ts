import type { MeasuredWindow } from './closedLoop.js';
import { sleep } from './run.js';

export interface OpenLoopFigures<W> {
  /** Operations due inside the measured window. */
  scheduled: number;
  /** Measured operations that found every slot of the pool busy at their due time. */
  poolWaits: number;
  /** Measured operations issued 5 ms or more after their due time (timer slack or pool). */
  late: number;
  maxIssueLagMs: number;
  /** Epoch ms of the measured window (operations due in it). */
  windowFromMs: number;
  windowToMs: number;
  window: W | undefined;
}

/**
 * An open-loop load: operation k is due at start + k / rate whatever happened to earlier ones, so a slow answer
 * cannot hold back the operations behind it (coordinated omission); at most `pool` in flight. `done` gets each
 * answer with its latency counted from the due time, and whether it was due inside the measured window, which
 * begins after `warmupMs` and lasts `durationMs`. Resolves once every operation is answered.
 */
export async function openLoop<R, W = undefined>(args: {
  rate: number;
  pool: number;
  warmupMs: number;
  durationMs: number;
  op: (index: number) => Promise<R>;
  done: (result: R, latencyMs: number, measured: boolean, index: number) => void;
  window?: MeasuredWindow<W>;
}): Promise<OpenLoopFigures<W>> {
  const interval = 1000 / args.rate;
  const start = performance.now() + 10;
  const from = start + args.warmupMs;
  const to = from + args.durationMs;
  const epochOffset = Date.now() - performance.now();
  let k = 0;
  let inflight = 0;
  let blockedUpTo = -1;
  let poolWaits = 0;
  let late = 0;
  let maxIssueLag = 0;
  let scheduled = 0;
  let allIssued = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => {
    finish = r;
  });

  const issue = (index: number, due: number, now: number) => {
    const measured = due >= from && due < to;
    if (measured) {
      scheduled += 1;
      const lag = now - due;
      if (index <= blockedUpTo) poolWaits += 1;
      if (lag >= 5) late += 1;
      if (lag > maxIssueLag) maxIssueLag = lag;
    }
    inflight += 1;
    void args.op(index).then((r) => {
      const latency = performance.now() - due;
      inflight -= 1;
      args.done(r, latency, measured, index);
      pump();
      if (allIssued && inflight === 0) finish();
    });
  };

  const pump = () => {
    const now = performance.now();
    for (;;) {
      const due = start + k * interval;
      if (due >= to) {
        allIssued = true;
        break;
      }
      if (due > now) break;
      if (inflight >= args.pool) {
        blockedUpTo = Math.max(blockedUpTo, Math.floor((now - start) / interval));
        break;
      }
      issue(k, due, now);
      k += 1;
    }
  };

  const timer = setInterval(pump, 1);
  let window: W | undefined;
  if (args.window) {
    await sleep(Math.max(0, from - performance.now()));
    const close = await args.window();
    await sleep(Math.max(0, to - performance.now()));
    window = await close();
  }
  while (!allIssued) await sleep(5);
  clearInterval(timer);
  if (inflight > 0) await finished;
  return {
    scheduled,
    poolWaits,
    late,
    maxIssueLagMs: maxIssueLag,
    windowFromMs: Math.round(from + epochOffset),
    windowToMs: Math.round(to + epochOffset),
    window,
  };
}
