import { waitQuiet } from './machine.js';
import { progress } from './run.js';

/** --quiet, --quiet-wait, --max-noise, --tries: how a phase copes with a machine other sessions share. */
export interface NoiseSettings {
  quietPercent: number;
  /** 0: do not wait. */
  quietWaitMs: number;
  maxNoise: number;
  tries: number;
}

/** The machine's CPU in the last idle second before a phase (see waitQuiet), or undefined with --quiet-wait 0. */
export async function quietBefore(s: NoiseSettings): Promise<number | undefined> {
  if (s.quietWaitMs <= 0) return undefined;
  return (await waitQuiet(s.quietPercent, s.quietWaitMs, progress)).idleCpu;
}

export interface Kept<T> {
  result: T;
  /** CPU of the idle machine (% of one core) before the kept attempt. */
  idleBefore: number | undefined;
  attempt: number;
}

/**
 * Runs a measurement after waiting for a quiet machine; when other processes still took more than --max-noise of a
 * core during it, runs it again (up to --tries) and keeps the least disturbed attempt.
 */
export async function leastDisturbed<T>(
  s: NoiseSettings,
  label: string,
  run: (attempt: number, idleBefore: number | undefined) => Promise<T>,
  noiseOf: (r: T) => number,
  onAttempt?: (r: T, noise: number) => void,
): Promise<Kept<T>> {
  let kept: Kept<T> | undefined;
  for (let attempt = 1; attempt <= s.tries; attempt++) {
    const idleBefore = await quietBefore(s);
    const result = await run(attempt, idleBefore);
    const noise = noiseOf(result);
    onAttempt?.(result, noise);
    if (kept === undefined || noise < noiseOf(kept.result)) kept = { result, idleBefore, attempt };
    if (noise <= s.maxNoise) break;
    if (attempt < s.tries) {
      progress(
        `  other processes took ${noise}% of a core during ${label} (--max-noise ${s.maxNoise}); measuring it again`,
      );
    }
  }
  return kept as Kept<T>;
}
