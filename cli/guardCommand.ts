import { Command } from 'commander';
import { startGuard } from '../guard/guard.js';
import { loadConfig } from '../pipeline/config/config.js';
import { UsageError } from '../pipeline/errors.js';
import { loadModulesFile } from './userFile.js';

interface GuardFlags {
  home?: string;
  modules?: string;
  port?: string;
  host?: string;
}

/** `kes guard`: runs one guard in the foreground until SIGINT/SIGTERM, then finishes in-flight appends. */
export function guardCommand(): Command {
  return new Command('guard')
    .description('run the guard: compare-and-swap appends and commands over HTTP (see docs/guard.md, docs/commands.md)')
    .option('--port <port>', 'HTTP port (env KES_GUARD_PORT, default 18090)')
    .option('--host <host>', 'HTTP address to bind (env KES_GUARD_HOST, default 127.0.0.1)')
    .option(
      '--modules <file>',
      'a compiled ES module exporting `modules`, the decider modules served at POST /commands/{category}/{id} (default: none; the bank: dist/example/modules.js, see docs/modules-and-projections.md)',
    )
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<GuardFlags>();
      if (flags.port !== undefined && !/^\d+$/.test(flags.port))
        throw new UsageError(`--port: not a port: ${flags.port}`);
      const config = loadConfig({
        overrides: { KES_HOME: flags.home, KES_GUARD_PORT: flags.port, KES_GUARD_HOST: flags.host },
      });
      // Loaded and checked before the guard opens anything: a bad file is one line naming it, exit 2.
      const modules = flags.modules === undefined ? [] : await loadModulesFile(flags.modules);
      const guard = await startGuard(config, { modules });
      const hosting =
        modules.length === 0 ? 'no command modules' : `modules ${modules.map((m) => m.category).join(', ')}`;
      process.stdout.write(`guard listening on ${guard.url} (${hosting})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write('guard: stopping (finishing in-flight appends)\n');
      await guard.close();
    });
}
