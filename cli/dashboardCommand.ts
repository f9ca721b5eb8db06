import { Command } from 'commander';
import { parsePort, parseSeconds, parseServiceUrls } from '../dashboard/dashboardFlags.js';
import { startDashboard } from '../dashboard/dashboardServer.js';
import { loadConfig } from '../pipeline/config/config.js';

interface DashboardFlags {
  home?: string;
  guard?: string;
  projector?: string;
  port?: string;
  host: string;
  window: string;
}

/** The dashboard's port when neither --port nor KES_DASHBOARD_PORT says otherwise. */
export const DEFAULT_DASHBOARD_PORT = 18095;

/** `kes dashboard`: the live page of a running pipeline, until SIGINT/SIGTERM (see docs/dashboard.md). */
export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description(
      'serve a live page of the running pipeline: appends/s, latency, conflicts, group commits, projector lag and freshness, dead letters, health, reports (see docs/dashboard.md)',
    )
    .option('--guard <urls>', 'guard base URLs, comma-separated (default: KES_GUARD_URL)')
    .option(
      '--projector <urls>',
      'projector base URLs, comma-separated (default: KES_PROJECTOR_HOST:KES_PROJECTOR_PORT)',
    )
    .option(
      '--port <port>',
      `HTTP port, 0 for any free one (env KES_DASHBOARD_PORT, default ${DEFAULT_DASHBOARD_PORT})`,
    )
    .option('--host <host>', 'HTTP address to bind', '127.0.0.1')
    .option('--window <seconds>', 'history kept and drawn', '300')
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<DashboardFlags>();
      const config = loadConfig({ overrides: { KES_HOME: flags.home } });
      const guards = parseServiceUrls('--guard', flags.guard ?? config.KES_GUARD_URL);
      const projectors = parseServiceUrls(
        '--projector',
        flags.projector ?? `http://${config.KES_PROJECTOR_HOST}:${config.KES_PROJECTOR_PORT}`,
      );
      const port = parsePort(
        flags.port === undefined ? 'KES_DASHBOARD_PORT' : '--port',
        flags.port ?? process.env.KES_DASHBOARD_PORT ?? String(DEFAULT_DASHBOARD_PORT),
      );
      const windowS = parseSeconds('--window', flags.window, 10, 86_400);
      const dashboard = await startDashboard({ guards, projectors, port, host: flags.host, windowMs: windowS * 1000 });
      process.stdout.write(`dashboard: ${dashboard.url}\n`);
      process.stdout.write(`  guards: ${guards.join(', ')}; projectors: ${projectors.join(', ')}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await dashboard.close();
    });
}
