import { bankReports } from '../../example/reports/bankReports.js';
import { reports as coreReports, type ReportDefinition } from './reportDefinitions.js';

/**
 * Every report users can ask for (`kes report`, `GET /reports`): the core reports over any event stream, then the
 * example banking domain's (example/reports/bankReports.ts). Look reports up here, not in reportDefinitions.ts.
 *
 * This module sits above both lists so that neither imports the other: reportDefinitions.ts is imported by the
 * domain reports (types and SQL helpers) and must not import them back.
 */
export const reports: readonly ReportDefinition[] = [...coreReports, ...bankReports];

export const reportNames: readonly string[] = reports.map((r) => r.name);

const duplicate = reportNames.find((name, i) => reportNames.indexOf(name) !== i);
if (duplicate !== undefined) throw new Error(`two reports are named ${duplicate}`);

export function findReport(name: string): ReportDefinition | undefined {
  return reports.find((r) => r.name === name);
}
