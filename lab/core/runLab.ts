import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from '../../bench/support/machine.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { UsageError } from '../../pipeline/errors.js';
import { renderRows } from '../../pipeline/output/textOutput.js';
import { kesVersion } from '../../pipeline/packageVersion.js';
import { renderChartSvg } from './chartSvg.js';
import type { Experiment, LabContext, LabProgress, LabResult, LabTable } from './experiment.js';
import { indexHtml, reportHtml } from './reportHtml.js';
import { seededRandom } from './seededRandom.js';

export interface LabRunOptions {
  quick: boolean;
  seed: number;
  /** Option values given on the command line, by experiment name then option name. */
  given: Map<string, Map<string, string>>;
  config: KesConfig;
  root: string;
  /** The run's folder (`.kes/lab/<run>`); each experiment writes into a folder of its own name inside. */
  out: string;
  progress: (line: string) => void;
}

export interface ExperimentOutcome {
  name: string;
  title: string;
  dir: string;
  ok: boolean;
  seconds: number;
  reading: string;
  /** The charts' file names (without .svg) in the experiment's folder; none when it failed. */
  charts: string[];
  error?: string;
}

/** The folders whose changes make a measurement of another code version; named in every report. */
const CODE_DIRS = ['lab', 'guard', 'projectors', 'pipeline', 'bench', 'verify', 'devstack'];

/** A run's folder name: when it started and what it ran, sortable and safe in a path. */
export function runName(what: string, at = new Date()): string {
  return `${at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-')}-${what}`;
}

/** Versions of what the figures depend on: kes and its clients, and the stack's services as `kes stack` runs them. */
function versions(root: string): Record<string, string> {
  const out: Record<string, string> = { kes: kesVersion() };
  try {
    const json = execFileSync(process.execPath, [join(root, 'bin', 'kes.js'), 'stack', 'status', '--format', 'json'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });
    for (const row of JSON.parse(json) as { service: string; version: string | null }[])
      if (row.version) out[row.service] = row.version;
  } catch (error) {
    // status exits 1 when a service is down; its JSON is still on stdout
    const text = String((error as { stdout?: unknown }).stdout ?? '');
    if (text.trim().startsWith('['))
      for (const row of JSON.parse(text) as { service: string; version: string | null }[])
        if (row.version) out[row.service] = row.version;
  }
  return out;
}

function optionReader(experiment: Experiment, quick: boolean, given: Map<string, string> | undefined) {
  for (const name of given?.keys() ?? [])
    if (!experiment.options.some((o) => o.name === name))
      throw new UsageError(`lab ${experiment.name}: no option --${name}`, { experiment: experiment.name });
  return (name: string): string => {
    const option = experiment.options.find((o) => o.name === name);
    if (!option) throw new Error(`lab ${experiment.name} asked for an option it does not declare: ${name}`);
    return given?.get(name) ?? (quick ? option.quick : option.full);
  };
}

async function writeResult(
  dir: string,
  experiment: Experiment,
  result: LabResult,
  about: Record<string, string | number>,
  seconds: number,
): Promise<void> {
  for (const table of result.tables) writeFileSync(join(dir, `${table.name}.csv`), `${tableCsv(table)}\n`);
  const svgs = new Map<string, string>();
  for (const chart of result.charts) {
    const svg = await renderChartSvg(chart);
    svgs.set(chart.name, svg);
    writeFileSync(join(dir, `${chart.name}.svg`), svg);
  }
  writeFileSync(
    join(dir, 'results.json'),
    `${JSON.stringify({ experiment: experiment.name, title: experiment.title, durationSeconds: seconds, about, ...result }, null, 2)}\n`,
  );
  writeFileSync(
    join(dir, 'report.html'),
    reportHtml({ title: experiment.title, experiment: experiment.name, result, svgs, about, durationSeconds: seconds }),
  );
}

export function tableCsv(table: LabTable): string {
  const rows = table.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i] ?? undefined])));
  return renderRows(
    rows,
    table.columns.map((c) => ({ header: c, value: (row: Record<string, string | number | undefined>) => row[c] })),
    'csv',
  );
}

/**
 * Runs experiments one after another (they share the machine and the stack; in parallel they would measure each
 * other) and writes each one's results, CSVs, SVG charts and report.html. A failed experiment is reported and the
 * rest still run; the caller decides the exit code from the outcomes.
 */
export async function runLab(experiments: readonly Experiment[], options: LabRunOptions): Promise<ExperimentOutcome[]> {
  // Every option is checked before anything runs: a typo must not cost the minutes of the experiments before it.
  const readers = experiments.map((e) => optionReader(e, options.quick, options.given.get(e.name)));
  for (const [i, experiment] of experiments.entries()) experiment.check(readers[i] as (name: string) => string);
  mkdirSync(options.out, { recursive: true });
  const outcomes: ExperimentOutcome[] = [];
  const shared = {
    ...machine(options.root, CODE_DIRS),
    ...versions(options.root),
    seed: options.seed,
    quick: String(options.quick),
  };
  for (const [i, experiment] of experiments.entries()) {
    const dir = join(options.out, experiment.name);
    mkdirSync(dir, { recursive: true });
    const began = Date.now();
    const elapsed = () => ((Date.now() - began) / 1000).toFixed(1).padStart(6);
    const head = `[lab ${i + 1}/${experiments.length} ${experiment.name}`;
    const progress: LabProgress = {
      step: (label, done, total) =>
        options.progress(`${head} ${elapsed()}s] ${bar(done, total)} ${done}/${total} ${label}`),
      note: (line) => options.progress(`${head} ${elapsed()}s]   ${line}`),
    };
    const ctx: LabContext = {
      quick: options.quick,
      seed: options.seed,
      random: seededRandom(options.seed),
      option: readers[i] as (name: string) => string,
      config: options.config,
      root: options.root,
      dir,
      progress,
    };
    options.progress(`${head}] ${experiment.title}`);
    try {
      const result = await experiment.run(ctx);
      const seconds = Math.round((Date.now() - began) / 100) / 10;
      await writeResult(dir, experiment, result, shared, seconds);
      outcomes.push({
        name: experiment.name,
        title: experiment.title,
        dir,
        ok: true,
        seconds,
        reading: result.reading,
        charts: result.charts.map((c) => c.name),
      });
      options.progress(`${head} ${elapsed()}s] done: ${join(dir, 'report.html')}`);
    } catch (error) {
      const seconds = Math.round((Date.now() - began) / 100) / 10;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      writeFileSync(join(dir, 'error.txt'), `${message}\n`);
      outcomes.push({
        name: experiment.name,
        title: experiment.title,
        dir,
        ok: false,
        seconds,
        reading: '',
        charts: [],
        error: message,
      });
      options.progress(`${head} ${elapsed()}s] FAILED: ${message.split('\n')[0]}`);
    }
  }
  writeFileSync(
    join(options.out, 'index.html'),
    indexHtml(
      `kes lab run ${options.out.split('/').pop()}`,
      outcomes.map((o) => ({
        name: o.name,
        title: o.title,
        ok: o.ok,
        reading: o.ok ? o.reading : (o.error ?? ''),
        charts: o.charts,
      })),
    ),
  );
  return outcomes;
}

function bar(done: number, total: number): string {
  const width = 20;
  const filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
