import { Command } from 'commander';
import { startTransfers } from '../example/transfers/transfersService.js';
import { loadConfig } from '../pipeline/config/config.js';
import { UsageError } from '../pipeline/errors.js';

interface TransfersFlags {
  home?: string;
  port?: string;
  host?: string;
}

/** `kes transfers`: runs the example transfers service's process manager until SIGINT/SIGTERM. */
export function transfersCommand(): Command {
  return new Command('transfers')
    .description(
      "run the example transfers service: the process manager that moves each transfer's money through the guard (see docs/commands.md)",
    )
    .option('--port <port>', 'HTTP port for health and metrics (env KES_TRANSFERS_PORT, default 18092)')
    .option('--host <host>', 'HTTP address to bind (env KES_TRANSFERS_HOST, default 127.0.0.1)')
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<TransfersFlags>();
      if (flags.port !== undefined && !/^\d+$/.test(flags.port)) {
        throw new UsageError(`--port: not a port: ${flags.port}`);
      }
      const config = loadConfig({
        overrides: { KES_HOME: flags.home, KES_TRANSFERS_PORT: flags.port, KES_TRANSFERS_HOST: flags.host },
      });
      let crashed: unknown;
      let wake: () => void = () => {};
      const stopped = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const transfers = await startTransfers(config, {
        onCrash: (error) => {
          crashed = error;
          wake();
        },
      });
      process.stdout.write(
        `transfers process manager listening on ${transfers.url} (group ${config.KES_TRANSFERS_GROUP}, guard ${config.KES_GUARD_URL})\n`,
      );
      process.once('SIGINT', wake);
      process.once('SIGTERM', wake);
      await stopped;
      process.stderr.write('transfers: stopping\n');
      await transfers.close();
      if (crashed) throw crashed;
    });
}
