import { Command, Option } from 'commander';
import { stackDown, stackLogs, stackStatus, stackUp } from '../devstack/stack.js';
import { type LocalServiceName, localServiceNames, type ServiceStatus } from '../devstack/types.js';
import { loadConfig, stackEnvPath } from '../pipeline/config/config.js';
import { UsageError } from '../pipeline/errors.js';
import {
  type Column,
  type OutputFormat,
  outputFormats,
  progressPrinter,
  renderRows,
} from '../pipeline/output/textOutput.js';

const statusColumns: Column<ServiceStatus>[] = [
  { header: 'service', value: (r) => r.service },
  { header: 'state', value: (r) => r.state },
  { header: 'address', value: (r) => r.address },
  { header: 'pid', value: (r) => r.pid },
  { header: 'version', value: (r) => r.version },
  { header: 'note', value: (r) => r.note },
];

function parseOnly(value: string | undefined): LocalServiceName[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!localServiceNames.includes(name as LocalServiceName)) {
      throw new UsageError(`--only: unknown service '${name}'; valid: ${localServiceNames.join(', ')}`);
    }
  }
  return names as LocalServiceName[];
}

/** 1, or 3 and more: two nodes would lose the controller quorum with either one. */
function parseNodes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n === 2 || n > 9) {
    throw new UsageError(
      `--kafka-brokers: expected 1 or 3..9, got '${value}' (two nodes cannot lose one and keep a quorum)`,
    );
  }
  return n;
}

/** 0 (one Redis, as by default) to 4 replicas; with any, three sentinels run too. */
function parseReplicas(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 4) throw new UsageError(`--redis-replicas: expected 0..4, got '${value}'`);
  return n;
}

interface GlobalFlags {
  home?: string;
  mode?: string;
}

function configFrom(command: Command, ignoreStackEnv = false) {
  const flags = command.optsWithGlobals<GlobalFlags>();
  return loadConfig({ overrides: { KES_HOME: flags.home, KES_STACK_MODE: flags.mode }, ignoreStackEnv });
}

const formatOption = () =>
  new Option('--format <format>', 'output format').choices(outputFormats as string[]).default('table');

/** Exit code of the last action, read by main(). */
export const lastExit = { code: 0 };

export function stackCommand(): Command {
  const stack = new Command('stack')
    .description(
      'run the real services kes needs: Kafka, schema registry, Redis, ClickHouse, and PostgreSQL for the lab',
    )
    // Subcommands made with .command() inherit these; main() turns the thrown errors into exit codes.
    .exitOverride()
    .showHelpAfterError()
    .addOption(
      new Option('--mode <mode>', 'docker compose, local processes, or auto (docker when an engine answers)').choices([
        'auto',
        'local',
        'docker',
      ]),
    );

  stack
    .command('up')
    .description('start what is not running (idempotent) and print each service address')
    .option('--only <services>', `comma-separated subset of: ${localServiceNames.join(', ')}`)
    .option(
      '--kafka-brokers <n>',
      'Kafka nodes (KRaft, broker and controller each); 3 gives replication 3, min.insync.replicas 2 (default: as before, else 1)',
    )
    .option(
      '--redis-replicas <n>',
      'Redis replicas beside the master, with three sentinels that fail over (KES_REDIS_SENTINELS in stack.env); default: as before, else 0',
    )
    .addOption(formatOption())
    .action(
      async (
        opts: { only?: string; kafkaBrokers?: string; redisReplicas?: string; format: OutputFormat },
        command: Command,
      ) => {
        // The addresses in stack.env are what this `up` is about to decide, so do not read them as settings.
        const config = configFrom(command, true);
        const result = await stackUp(
          config,
          progressPrinter(),
          parseOnly(opts.only),
          parseNodes(opts.kafkaBrokers),
          parseReplicas(opts.redisReplicas),
        );
        process.stdout.write(`${renderRows(result.statuses, statusColumns, opts.format)}\n`);
        if (opts.format === 'table') {
          process.stdout.write(`addresses written to ${stackEnvPath(config.KES_HOME)} (mode: ${result.mode})\n`);
        }
      },
    );

  stack
    .command('status')
    .description('show each service: up/down, address, pid, version (exit 1 when a service is down)')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, command: Command) => {
      const rows = await stackStatus(configFrom(command));
      process.stdout.write(`${renderRows(rows, statusColumns, opts.format)}\n`);
      lastExit.code = rows.some((r) => r.state === 'down' || r.state === 'starting') ? 1 : 0;
    });

  stack
    .command('down')
    .description('stop the processes this stack started (by pid); data is kept')
    .option('--only <services>', `comma-separated subset of: ${localServiceNames.join(', ')}`)
    .action(async (opts: { only?: string }, command: Command) => {
      await stackDown(configFrom(command), progressPrinter(), parseOnly(opts.only));
    });

  stack
    .command('logs')
    .description("show a service's log")
    .argument('<service>', localServiceNames.join(' | '))
    .option('-n, --lines <n>', 'lines from the end', '100')
    .option('-f, --follow', 'keep printing as the log grows', false)
    .action(async (service: string, opts: { lines: string; follow: boolean }, command: Command) => {
      const lines = Number.parseInt(opts.lines, 10);
      if (!Number.isInteger(lines) || lines <= 0)
        throw new UsageError(`--lines: expected a positive integer, got '${opts.lines}'`);
      lastExit.code = await stackLogs(configFrom(command), service, lines, opts.follow);
    });

  return stack;
}
