import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { findUpwards } from '../devstack/findUpwards.js';
import type { Experiment } from '../lab/core/experiment.js';
import { runLab, runName } from '../lab/core/runLab.js';
import { experiments } from '../lab/experiments/catalog.js';
import { loadConfig } from '../pipeline/config/config.js';
import { UsageError } from '../pipeline/errors.js';
import { type OutputFormat, outputFormats, renderRows } from '../pipeline/output/textOutput.js';
import { lastExit } from './stackCommand.js';

interface CommonFlags {
  quick: boolean;
  seed: string;
  out?: string;
}

function seedOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1)
    throw new UsageError(`--seed: expected a whole number from 0 to 4294967295, got '${value}'`);
  return n;
}

/** Commander's camelCase key of a declared option, back to the experiment's own name. */
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

async function run(
  chosen: readonly Experiment[],
  what: string,
  flags: CommonFlags & Record<string, unknown>,
  command: Command,
) {
  const globals = command.optsWithGlobals<{ home?: string }>();
  const config = loadConfig({ overrides: { KES_HOME: globals.home } });
  const given = new Map<string, Map<string, string>>();
  for (const experiment of chosen) {
    const values = new Map<string, string>();
    for (const option of experiment.options) {
      const value = flags[camel(option.name)];
      if (typeof value === 'string') values.set(option.name, value);
    }
    given.set(experiment.name, values);
  }
  // the package's root (bin/kes.js beside dist/), from the sources under vitest and from dist/ once built
  const root = dirname(dirname(findUpwards('bin/kes.js', dirname(fileURLToPath(import.meta.url)))));
  const out = flags.out ?? join(config.KES_HOME, 'lab', runName(what));
  const outcomes = await runLab(chosen, {
    quick: flags.quick,
    seed: seedOf(flags.seed),
    given,
    config,
    root,
    out,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(
    `${renderRows(
      outcomes,
      [
        { header: 'experiment', value: (o) => o.name },
        { header: 'result', value: (o) => (o.ok ? 'ok' : 'FAILED') },
        { header: 'seconds', value: (o) => o.seconds, align: 'right' },
        {
          header: 'report',
          value: (o) => relative(process.cwd(), join(o.dir, o.ok ? 'report.html' : 'error.txt')),
        },
      ],
      'table',
    )}\n`,
  );
  if (chosen.length > 1) process.stdout.write(`index: ${relative(process.cwd(), join(out, 'index.html'))}\n`);
  if (outcomes.some((o) => !o.ok)) lastExit.code = 1;
}

function common(command: Command): Command {
  return command
    .exitOverride()
    .showHelpAfterError()
    .option('--quick', 'the short version: about a minute, for a first look and for tests', false)
    .option('--seed <n>', 'seed of the run plan (stream names, writers, faults)', '1')
    .option('--out <dir>', 'where to write the run (default .kes/lab/<time>-<experiment>)');
}

/**
 * `kes lab`: experiments on what Kafka as an event store costs and risks, against raw Kafka and a Postgres event
 * store, each written to `.kes/lab/<run>/` as JSON, CSV, SVG charts and a report.html.
 */
export function labCommand(): Command {
  const lab = new Command('lab')
    .description('run experiments on Kafka as an event store and write reports with charts (.kes/lab/<run>/)')
    .exitOverride()
    .showHelpAfterError();
  lab.addCommand(
    new Command('list')
      .description('the experiments and their options')
      .exitOverride()
      .addOption(new Option('--format <format>', 'output format').choices(outputFormats as string[]).default('table'))
      .action((opts: { format: OutputFormat }) => {
        const rows = experiments.map((e) => ({
          name: e.name,
          summary: e.summary,
          options: e.options.map((o) => `--${o.name} (${o.full}; quick ${o.quick})`).join(' '),
        }));
        process.stdout.write(
          `${renderRows(
            rows,
            [
              { header: 'experiment', value: (r) => r.name },
              { header: 'what it measures', value: (r) => r.summary },
              { header: 'options (default; --quick)', value: (r) => r.options },
            ],
            opts.format,
          )}\n`,
        );
      }),
  );
  lab.addCommand(
    common(new Command('all').description('every experiment, one after another, with an index.html')).action(
      (flags: CommonFlags & Record<string, unknown>, command: Command) => run(experiments, 'all', flags, command),
    ),
  );
  for (const experiment of experiments) {
    const sub = common(new Command(experiment.name).description(experiment.summary));
    for (const option of experiment.options)
      sub.option(`--${option.name} <value>`, `${option.description} (default ${option.full}; quick ${option.quick})`);
    sub.action((flags: CommonFlags & Record<string, unknown>, command: Command) =>
      run([experiment], experiment.name, flags, command),
    );
    lab.addCommand(sub);
  }
  return lab;
}
