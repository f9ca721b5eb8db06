import { ConfigError } from '../../pipeline/errors.js';
import { coreReports, type ReportDefinition } from './reportDefinitions.js';

/**
 * The reports one deployment offers (`kes report`, `GET /reports`). The list is handed in by whoever wires the
 * service — `kes project` and `kes report` give the core reports plus those of a `--projections` file (the bank's is
 * one such file) — so the library never knows a domain.
 * A name is looked up here, never in a list of its own, so that the CLI and HTTP answers cannot disagree.
 */
export class ReportCatalog {
  readonly reports: readonly ReportDefinition[];
  readonly names: readonly string[];

  constructor(reports: readonly ReportDefinition[]) {
    const names = reports.map((r) => r.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) throw new ConfigError('reports', `two reports are named ${duplicate}`);
    this.reports = reports;
    this.names = names;
  }

  find(name: string): ReportDefinition | undefined {
    return this.reports.find((r) => r.name === name);
  }
}

/** The reports over any event stream, for a deployment that adds none of its own. */
export const coreReportCatalog = new ReportCatalog(coreReports);
