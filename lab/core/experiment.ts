import type { KesConfig } from '../../pipeline/config/config.js';

/**
 * What a lab experiment is: a named measurement with its own options, run against the local stack, that answers
 * tables, charts and a one-paragraph reading. The runner (runLab.ts) writes them to `.kes/lab/<run>/<name>/`.
 */

/** An option of one experiment (`kes lab <name> --<option> value`); `quick` applies under --quick. */
export interface LabOption {
  name: string;
  description: string;
  full: string;
  quick: string;
}

export interface LabProgress {
  /** One step of the experiment's plan: `done` of `total` finished, `label` says what runs now. */
  step(label: string, done: number, total: number): void;
  /** A line worth seeing while it runs (a phase's figures, a fault injected). */
  note(line: string): void;
}

export interface LabContext {
  quick: boolean;
  seed: number;
  /** A random number in [0, 1) from the run's seed: the same seed plans the same run. */
  random: () => number;
  /** The value of one of the experiment's options: the flag given, else its quick or full default. */
  option(name: string): string;
  config: KesConfig;
  /** The project root (bin/kes.js, dist/, .kes/). */
  root: string;
  /** This experiment's folder in the run, for anything it keeps besides its results (logs, histories). */
  dir: string;
  progress: LabProgress;
}

export type Cell = string | number | null;

export interface LabTable {
  /** File name of its CSV, without extension. */
  name: string;
  title: string;
  columns: string[];
  rows: Cell[][];
}

export interface LabSeries {
  name: string;
  /** [x, y]; x is a number on a value axis or a label on a category axis; y null leaves a gap. */
  points: [number | string, number | null][];
}

export interface LabChart {
  /** File name of its SVG, without extension. */
  name: string;
  title: string;
  kind: 'line' | 'bar';
  x: { label: string; log?: boolean; categories?: boolean };
  y: { label: string; log?: boolean };
  series: LabSeries[];
}

export interface LabResult {
  /** What was run: the options and anything else that shapes the figures. */
  settings: Record<string, string | number | boolean>;
  tables: LabTable[];
  charts: LabChart[];
  /** One paragraph: what the figures say, for someone choosing an event store. */
  reading: string;
  /** Short statements shown beside the figures (the durability each path gives, what was left out). */
  notes?: string[];
}

export interface Experiment {
  name: string;
  title: string;
  /** One line for `kes lab list`. */
  summary: string;
  options: LabOption[];
  /**
   * Reads every option's value and throws a UsageError naming the flag when one is wrong. runLab calls it for every
   * experiment of a run before any starts: a typo must not cost the minutes of the experiments before it.
   */
  check(option: (name: string) => string): void;
  run(ctx: LabContext): Promise<LabResult>;
}
