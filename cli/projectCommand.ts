import { Command } from 'commander';
import { loadConfig } from '../pipeline/config/config.js';
import { KesError, ProjectionWriteError, UsageError } from '../pipeline/errors.js';
import { createLogger } from '../pipeline/log/logger.js';
import { startProjector } from '../projectors/projector.js';
import { PROJECTIONS, projectionNamed } from '../projectors/readModels/registry.js';
import { coreReportCatalog, ReportCatalog } from '../projectors/reports/reportCatalog.js';
import { loadProjectionsFile } from './userFile.js';

interface ProjectFlags {
  home?: string;
  port?: string;
  host?: string;
  projection?: string[];
  projections?: string;
}

/** `kes project`: runs the projectors in the foreground until SIGINT/SIGTERM (see docs/projectors.md). */
export function projectCommand(): Command {
  return new Command('project')
    .description('run the projectors: consumer groups building the ClickHouse read models (see docs/projectors.md)')
    .option(
      '--projection <name...>',
      `projections to run (default: all of ${PROJECTIONS.map((p) => p.name).join(', ')} and those of --projections)`,
    )
    .option(
      '--projections <file>',
      "a compiled ES module exporting `projections` (and optionally `reports`) to run beside kes's own (docs/modules-and-projections.md)",
    )
    .option('--port <port>', 'HTTP port for metrics, reports and stream reads (env KES_PROJECTOR_PORT, default 18091)')
    .option('--host <host>', 'HTTP address to bind (env KES_PROJECTOR_HOST, default 127.0.0.1)')
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ProjectFlags>();
      if (flags.port !== undefined && !/^\d+$/.test(flags.port)) {
        throw new UsageError(`--port: not a port: ${flags.port}`);
      }
      const file = flags.projections === undefined ? undefined : await loadProjectionsFile(flags.projections);
      const available = [...PROJECTIONS, ...(file?.projections ?? [])];
      const projections = flags.projection
        ? flags.projection.map((name) => projectionNamed(name, available))
        : available;
      // kes's own reports, then the file's: a domain's reports (the bank's too) come only from --projections.
      const reports = file ? new ReportCatalog([...coreReportCatalog.reports, ...file.reports]) : coreReportCatalog;
      const config = loadConfig({
        overrides: { KES_HOME: flags.home, KES_PROJECTOR_PORT: flags.port, KES_PROJECTOR_HOST: flags.host },
      });
      // The projector's own lines (retries, restarts, dead letters) are structured like its request logs: pino JSON
      // on stderr at the configured level. They report something going wrong or recovering, hence warn.
      const logger = createLogger('projector', config.KES_LOG_LEVEL);
      const log = (line: string) => logger.warn(line);
      let fatal: unknown;
      let wake: () => void = () => {};
      const stopped = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const projector = await startProjector(config, {
        projections,
        reports,
        log,
        onFatal: (error) => {
          fatal = error;
          wake();
        },
      });
      process.stdout.write(
        `projector listening on ${projector.url} (${projections.map((p) => p.name).join(', ')}; database ${config.KES_CLICKHOUSE_DATABASE})\n`,
      );
      process.once('SIGINT', wake);
      process.once('SIGTERM', wake);
      await stopped;
      process.stderr.write(fatal ? 'projector: stopping after an error no retry can fix\n' : 'projector: stopping\n');
      await projector.close();
      // The error itself is the exit: main prints it on one line and maps it to its exit code (14: dead letters).
      if (fatal instanceof KesError) throw fatal;
      if (fatal) throw new ProjectionWriteError(projections.map((p) => p.name).join(', '), [], false, fatal);
    });
}
