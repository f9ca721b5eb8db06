import { Command } from 'commander';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import { loadConfig } from '../pipeline/config/config.js';
import { type OutputFormat, outputFormats } from '../pipeline/output/textOutput.js';
import { renderReport, renderReportList, tableFooter } from '../projectors/reports/formatReport.js';
import { coreReportCatalog as hosted, ReportCatalog } from '../projectors/reports/reportCatalog.js';
import { ReportOptionError, UnknownReportError } from '../projectors/reports/reportErrors.js';
import { optionNames, parseChoice } from '../projectors/reports/reportOptions.js';
import { prepareReport, runReport } from '../projectors/reports/runReport.js';
import { loadProjectionsFile } from './userFile.js';

async function withFileReports(file: string): Promise<ReportCatalog> {
  return new ReportCatalog([...hosted.reports, ...(await loadProjectionsFile(file)).reports]);
}

interface ReportFlags {
  from?: string;
  to?: string;
  category?: string;
  limit?: string;
  by?: string;
  format?: string;
  projections?: string;
}

/**
 * `kes report list` and `kes report <name> [--from] [--to] [--category] [--limit] [--by] [--format]`: the reports
 * over the read models in KES_CLICKHOUSE_DATABASE. Every value is checked before anything runs (a bad one is one
 * line naming the option and the valid choices, exit 2) and bound as a query parameter when it runs.
 */
export function reportCommand(): Command {
  return (
    new Command('report')
      .description('reports over the read models (`kes report list` shows them)')
      // Commander's own errors (an unknown flag) stay one line: no help or suggestion after them.
      .exitOverride()
      .showSuggestionAfterError(false)
      .argument('[name]', `list | ${hosted.names.join(' | ')} | a report of --projections`)
      .option('--from <time>', 'start of the range: ISO-8601 (UTC when no zone) or relative (-15m, -2h, -7d)')
      .option('--to <time>', 'end of the range, exclusive: same forms as --from')
      .option('--category <category>', 'only this category (one that has events)')
      .option('--limit <n>', 'most rows (reports that take it)')
      .option('--by <order>', 'order (reports that take it)')
      .option('--format <format>', `output format: ${outputFormats.join(', ')} (default: table)`)
      .option(
        '--projections <file>',
        'also the reports this compiled ES module exports (see `kes project --projections`; the bank: dist/example/modules.js)',
      )
      .action(async (name: string | undefined, flags: ReportFlags, command: Command) => {
        const hostedReports = flags.projections === undefined ? hosted : await withFileReports(flags.projections);
        const format = parseChoice('format', flags.format ?? 'table', outputFormats) as OutputFormat;
        if (name === 'list') {
          const given = optionNames.filter((o) => flags[o] !== undefined);
          if (given[0] !== undefined)
            throw new ReportOptionError(given[0], undefined, 'not an option of report list', ['format'], true);
          process.stdout.write(`${renderReportList(hostedReports.reports, format)}\n`);
          return;
        }
        if (name === undefined)
          throw new ReportOptionError('report', undefined, 'a report name is required', [
            'list',
            ...hostedReports.names,
          ]);
        if (!hostedReports.find(name)) throw new UnknownReportError(name, ['list', ...hostedReports.names]);
        const raw = Object.fromEntries(optionNames.map((o) => [o, flags[o]]));
        const prepared = prepareReport(hostedReports, name, raw);
        const config = loadConfig({ overrides: { KES_HOME: command.optsWithGlobals<{ home?: string }>().home } });
        const engine = await openEngine(config);
        try {
          const result = await runReport(engine, config.KES_CLICKHOUSE_DATABASE, prepared);
          process.stdout.write(`${renderReport(result.definition, result.rows, format)}\n`);
          if (format === 'table') process.stdout.write(`${tableFooter(result.rows.length, result.options)}\n`);
        } finally {
          await engine.close();
        }
      })
  );
}
