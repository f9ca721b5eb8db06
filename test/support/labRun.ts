import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Experiment, LabResult } from '../../lab/core/experiment.js';
import { runLab } from '../../lab/core/runLab.js';
import { labConfig } from './labConfig.js';

export interface ExperimentRun {
  /** The experiment's folder: results.json, the CSVs, the SVGs and report.html. */
  dir: string;
  results: LabResult;
  /** The rows of one table as objects keyed by column, so an assertion names the column it reads. */
  table(name: string): Record<string, string | number | null>[];
}

/**
 * Runs one experiment as `kes lab <name> --quick --<flag> <value>…` would, against the test run's services, in a
 * folder of its own; fails with the experiment's progress lines when it fails.
 */
export async function runExperimentInTest(
  experiment: Experiment,
  flags: Record<string, string>,
  seed = 1,
): Promise<ExperimentRun> {
  const out = mkdtempSync(join(tmpdir(), `kes-lab-${experiment.name}-`));
  const lines: string[] = [];
  const [outcome] = await runLab([experiment], {
    quick: true,
    seed,
    given: new Map([[experiment.name, new Map(Object.entries(flags))]]),
    config: labConfig(),
    root: process.cwd(),
    out,
    progress: (line) => lines.push(line),
  });
  expect(outcome?.error, lines.join('\n')).toBeUndefined();
  expect(outcome?.ok).toBe(true);
  const dir = join(out, experiment.name);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as LabResult;
  return {
    dir,
    results,
    table(name) {
      const table = results.tables.find((t) => t.name === name);
      if (!table)
        throw new Error(`${experiment.name}: no table '${name}' in ${results.tables.map((t) => t.name).join(', ')}`);
      return table.rows.map((row) => Object.fromEntries(table.columns.map((column, i) => [column, row[i] ?? null])));
    },
  };
}
