import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { renderReport } from '../../projectors/reports/formatReport.js';
import { prepareReport, type ReportRow, runReport } from '../../projectors/reports/runReport.js';
import { bankReportCatalog } from '../reports/reportCatalog.js';

/** The reports the demo prints, as `kes report <name>` would with these options. */
const REPORTS: { name: string; options: Record<string, string> }[] = [
  { name: 'balances', options: { limit: '10' } },
  { name: 'transfers', options: {} },
  { name: 'money-daily', options: {} },
  { name: 'money-check', options: {} },
];

/** Runs the demo's reports against ClickHouse: their rows by report name. */
export async function runDemoReports(engine: ClickHouseEngine, database: string): Promise<Record<string, ReportRow[]>> {
  const reports: Record<string, ReportRow[]> = {};
  for (const { name, options } of REPORTS) {
    const prepared = prepareReport(bankReportCatalog, name, options);
    reports[name] = (await runReport(engine, database, prepared)).rows;
  }
  return reports;
}

/** Each report as a table under the `kes report …` line that prints it. */
export function renderDemoReports(reports: Record<string, ReportRow[]>): string[] {
  return REPORTS.map(({ name, options }) => {
    const prepared = prepareReport(bankReportCatalog, name, options);
    return `kes report ${name}${options.limit ? ` --limit ${options.limit}` : ''}\n${renderReport(prepared.definition, reports[name] ?? [], 'table')}`;
  });
}
