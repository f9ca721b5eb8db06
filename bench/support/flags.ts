import type { Command } from 'commander';
import { positive } from './figures.js';
import type { NoiseSettings } from './quiet.js';

/** Seconds as milliseconds; '0' is allowed (no warm-up, no wait). */
export function secondsFlag(name: string, value: string): number {
  return value.trim() === '0' ? 0 : positive(name, value, false) * 1000;
}

/** A comma-separated list of positive integers; '' is the empty list. */
export function listFlag(name: string, value: string): number[] {
  return value.trim() === '' ? [] : value.split(',').map((x) => positive(name, x.trim()));
}

/** The flags every benchmark takes for a shared, noisy machine; the help texts are the benchmark's own. */
export function noiseOptions(
  program: Command,
  help: { quiet: string; quietWait: string; maxNoise: string; tries: string },
  quietWaitDefault: string,
): Command {
  return program
    .option('--quiet <percent>', help.quiet, '40')
    .option('--quiet-wait <s>', help.quietWait, quietWaitDefault)
    .option('--max-noise <percent>', help.maxNoise, '30')
    .option('--tries <n>', help.tries, '3');
}

export function noiseSettings(f: { quiet: string; quietWait: string; maxNoise: string; tries: string }): NoiseSettings {
  return {
    quietPercent: positive('--quiet', f.quiet, false),
    quietWaitMs: secondsFlag('--quiet-wait', f.quietWait),
    maxNoise: positive('--max-noise', f.maxNoise, false),
    tries: positive('--tries', f.tries),
  };
}

/** --phases: the benchmark's phases, or a comma-separated choice of them. */
export function phasesOption(program: Command, names: readonly string[]): Command {
  return program.option('--phases <list>', `phases to run, in their order: ${names.join(',')}`, names.join(','));
}
