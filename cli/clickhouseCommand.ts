import { resolve } from 'node:path';
import { Command } from 'commander';
import { OwnedEngine, openEmbedded, readOwner } from '../pipeline/clickhouse/ownership.js';
import { loadConfig } from '../pipeline/config/config.js';
import { EmbeddedOwnerError, UsageError } from '../pipeline/errors.js';

interface ServeFlags {
  home?: string;
  path?: string;
  port?: string;
}

/**
 * `kes clickhouse serve`: this process becomes the owner of the embedded data path and serves it over the HTTP
 * facade until SIGINT/SIGTERM. The local stack runs it as its `clickhouse-embedded` service.
 */
export function clickhouseCommand(): Command {
  const clickhouse = new Command('clickhouse')
    .description('the embedded ClickHouse engine (chdb) and its HTTP facade')
    .exitOverride()
    .showHelpAfterError();

  clickhouse
    .command('serve')
    .description(
      'own the embedded data path and serve it over a ClickHouse-compatible HTTP interface until SIGINT/SIGTERM',
    )
    .option('--path <dir>', 'data path (env CLICKHOUSE_EMBEDDED_PATH, default <KES_HOME>/chdb)')
    .option('--port <port>', 'HTTP port, 0 for any free one (env KES_CLICKHOUSE_EMBEDDED_PORT, default 18124)')
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ServeFlags>();
      if (flags.port !== undefined && !/^\d+$/.test(flags.port)) {
        throw new UsageError(`--port: not a port: ${flags.port}`);
      }
      const config = loadConfig({
        overrides: {
          KES_HOME: flags.home,
          CLICKHOUSE_EMBEDDED_PATH: flags.path === undefined ? undefined : resolve(flags.path),
          KES_CLICKHOUSE_EMBEDDED_PORT: flags.port,
        },
      });
      const path = config.CLICKHOUSE_EMBEDDED_PATH;
      const engine = await openEmbedded(path, {
        port: config.KES_CLICKHOUSE_EMBEDDED_PORT,
        explicitPort: config.explicit.has('KES_CLICKHOUSE_EMBEDDED_PORT'),
        maxBodyBytes: config.KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES,
      });
      if (!(engine instanceof OwnedEngine)) {
        await engine.close();
        const owner = readOwner(path);
        throw new EmbeddedOwnerError(
          path,
          `${path} is already served by pid ${owner?.pid ?? '?'} at ${owner?.url ?? '?'}; stop that process to serve it from here`,
          { retriable: false, pid: owner?.pid, url: owner?.url },
        );
      }
      const stopped = new Promise<NodeJS.Signals>((resolvePromise) => {
        process.once('SIGINT', () => resolvePromise('SIGINT'));
        process.once('SIGTERM', () => resolvePromise('SIGTERM'));
      });
      process.stdout.write(
        `embedded ClickHouse ${engine.owner.version} at ${path} served at ${engine.url} (pid ${process.pid})\n`,
      );
      const signal = await stopped;
      process.stderr.write(`kes clickhouse serve: ${signal}, stopping (finishing requests in flight)\n`);
      await engine.close();
    });

  return clickhouse;
}
