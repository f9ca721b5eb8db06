import { Command, Option } from 'commander';
import type { ServiceSpec } from '../example/demo/demoServices.js';
import { runDemo } from '../example/demo/runDemo.js';
import type { StartedServices } from '../example/demo/startServices.js';
import { CheckFailedError, UsageError } from '../pipeline/errors.js';
import { progressPrinter } from '../pipeline/output/textOutput.js';
import { DEFAULT_DASHBOARD_PORT } from './dashboardCommand.js';
import { lastExit } from './stackCommand.js';

interface DemoFlags {
  home?: string;
  duration: string;
  rate: string;
  accounts: string;
  concurrency: string;
  guards: string;
  keep: boolean;
  stack: boolean;
  format: 'table' | 'json';
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** `kes demo`: the example domain end to end (see docs/architecture.md and example/README.md). */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'run the whole architecture: stack, guard, projector, transfers process manager, a bank workload, then reports and checks',
    )
    .option('--duration <seconds>', 'how long the clients send commands', '30')
    .option('--rate <commands/s>', 'commands per second over all clients (0: as fast as answered)', '0')
    .option('--accounts <n>', 'accounts to open', '200')
    .option('--concurrency <n>', 'concurrent clients', '16')
    .option(
      '--guards <n>',
      'guard processes; commands go round-robin, so writers of hot accounts meet in different guards',
      '2',
    )
    .option(
      '--keep',
      'leave the guard, projector and process manager running afterwards, with a live dashboard (its address is printed)',
      false,
    )
    .option('--no-stack', 'do not run `kes stack up`: use the services the configuration names')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<DemoFlags>();
      const result = await runDemo(
        {
          home: flags.home,
          durationS: integer('--duration', flags.duration, 1, 86_400),
          rate: integer('--rate', flags.rate, 0, 1_000_000),
          accounts: integer('--accounts', flags.accounts, 2, 1_000_000),
          concurrency: integer('--concurrency', flags.concurrency, 1, 1_024),
          guards: integer('--guards', flags.guards, 1, 16),
          keep: flags.keep,
          stack: flags.stack,
          format: flags.format,
          extraServices: flags.keep ? (started) => [dashboardSpec(started)] : undefined,
        },
        progressPrinter(),
      );
      if (!result.ok) throw new CheckFailedError(result.check.violations + result.ledger.violations.length);
      lastExit.code = 0;
    });
}

/** `kes dashboard` over the demo's guards and projector, kept running with them (--keep). */
function dashboardSpec(started: StartedServices): ServiceSpec {
  return {
    name: 'dashboard',
    args: ['dashboard', '--guard', started.guards.map((g) => g.url).join(','), '--projector', started.projector.url],
    portSetting: 'KES_DASHBOARD_PORT',
    defaultPort: DEFAULT_DASHBOARD_PORT,
    env: {},
    waitReady: false,
  };
}
