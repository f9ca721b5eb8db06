import type { Experiment } from '../core/experiment.js';
import { coldRead } from './coldRead.js';
import { contention } from './contention.js';
import { lostUpdates } from './lostUpdates.js';
import { projection } from './projection.js';
import { recovery } from './recovery.js';
import { writeCost } from './writeCost.js';

/** Every lab experiment, in the order `kes lab all` runs them (and docs/lab.md tells them). */
export const experiments: readonly Experiment[] = [lostUpdates, writeCost, coldRead, recovery, contention, projection];

export function findExperiment(name: string): Experiment | undefined {
  return experiments.find((e) => e.name === name);
}
