import { Command, CommanderError } from 'commander';
import { exitCodeFor, KesError, ServiceStartError } from '../pipeline/errors.js';
import { kesVersion } from '../pipeline/packageVersion.js';
import { checkCommand } from './checkCommand.js';
import { clickhouseCommand } from './clickhouseCommand.js';
import { dashboardCommand } from './dashboardCommand.js';
import { demoCommand } from './demoCommand.js';
import { guardCommand } from './guardCommand.js';
import { labCommand } from './labCommand.js';
import { loadCommand } from './loadCommand.js';
import { projectCommand } from './projectCommand.js';
import { projectionsCommand } from './projectionsCommand.js';
import { reportCommand } from './reportCommand.js';
import { schemasCommand } from './schemasCommand.js';
import { lastExit, stackCommand } from './stackCommand.js';
import { transfersCommand } from './transfersCommand.js';

export function program(): Command {
  return new Command('kes')
    .description(
      'event sourcing on Kafka: a compare-and-swap guard in front of the log, ClickHouse read models beside it',
    )
    .version(kesVersion(), '-V, --version', 'print the version of kes and exit')
    .option('--home <dir>', 'data directory of the local stack (env KES_HOME)', undefined)
    .showHelpAfterError()
    .exitOverride()
    .addCommand(demoCommand())
    .addCommand(dashboardCommand())
    .addCommand(stackCommand())
    .addCommand(schemasCommand())
    .addCommand(checkCommand())
    .addCommand(guardCommand())
    .addCommand(loadCommand())
    .addCommand(clickhouseCommand())
    .addCommand(projectCommand())
    .addCommand(projectionsCommand())
    .addCommand(reportCommand())
    .addCommand(transfersCommand())
    .addCommand(labCommand());
}

/** Runs the CLI and resolves to the process exit code; errors become one readable line, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    lastExit.code = 0;
    await program().parseAsync([...argv]);
    return lastExit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (and help after errors); --help and --version exit 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof KesError) {
      process.stderr.write(`kes: ${error.message}\n`);
      if (error instanceof ServiceStartError) {
        process.stderr.write(`--- last lines of ${error.logPath ?? 'its output'} ---\n${error.logTail}\n`);
      }
      return exitCodeFor(error);
    }
    process.stderr.write(
      `kes: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
