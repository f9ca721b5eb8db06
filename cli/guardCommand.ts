import { Command } from 'commander';
import { startGuard } from '../guard/guard.js';
import { loadConfig } from '../pipeline/config/config.js';
import { UsageError } from '../pipeline/errors.js';
import { hostedModules } from './wiring.js';

interface GuardFlags {
  home?: string;
  port?: string;
  host?: string;
}

/** `kes guard`: runs one guard in the foreground until SIGINT/SIGTERM, then finishes in-flight appends. */
export function guardCommand(): Command {
  return new Command('guard')
    .description('run the guard: compare-and-swap appends and commands over HTTP (see docs/guard.md, docs/commands.md)')
    .option('--port <port>', 'HTTP port (env KES_GUARD_PORT, default 18090)')
    .option('--host <host>', 'HTTP address to bind (env KES_GUARD_HOST, default 127.0.0.1)')
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<GuardFlags>();
      if (flags.port !== undefined && !/^\d+$/.test(flags.port))
        throw new UsageError(`--port: not a port: ${flags.port}`);
      const config = loadConfig({
        overrides: { KES_HOME: flags.home, KES_GUARD_PORT: flags.port, KES_GUARD_HOST: flags.host },
      });
      // The hosted modules (cli/wiring.ts: the example's accounts and transfers) answer POST /commands/{category}/{id}.
      const guard = await startGuard(config, { modules: hostedModules });
      process.stdout.write(`guard listening on ${guard.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write('guard: stopping (finishing in-flight appends)\n');
      await guard.close();
    });
}
