import { type Column, type OutputFormat, renderRows } from '../../pipeline/output/textOutput.js';
import type { ColumnKind, ReportDefinition } from './reportDefinitions.js';
import type { ReportRow, ReportValue } from './runReport.js';

/**
 * Reports as text. JSON is an array of objects and CSV a header plus rows (RFC 4180), both with the typed values
 * (numbers, ISO-8601 UTC times). Tables are for reading: counts and amounts (integer minor units) with thousands
 * separators and right-aligned, minutes and hours as `2026-01-31 10:00`, days as `2026-01-31`, event times to the
 * millisecond, all UTC.
 */
export function renderReport(definition: ReportDefinition, rows: readonly ReportRow[], format: OutputFormat): string {
  const columns: Column<ReportRow>[] = definition.columns.map((c) => ({
    header: c.name,
    value: format === 'table' ? (row) => display(c.kind, row[c.name] ?? null) : (row) => row[c.name] ?? undefined,
    align: c.kind === 'count' || c.kind === 'amount' || c.kind === 'percent' ? 'right' : 'left',
  }));
  if (format === 'json') return JSON.stringify(rows, null, 2);
  return renderRows(rows, columns, format);
}

/** `(3 rows; 2026-01-31 09:00:00.000 .. … UTC)`: the line under a table (… is an open end). */
export function tableFooter(rows: number, range: { from?: number; to?: number }): string {
  const at = (ms: number | undefined) =>
    ms === undefined ? '…' : new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
  const span =
    range.from === undefined && range.to === undefined ? 'all time' : `${at(range.from)} .. ${at(range.to)} UTC`;
  return `(${rows} row${rows === 1 ? '' : 's'}; ${span})`;
}

export function display(kind: ColumnKind, value: ReportValue): string {
  if (value === null) return '';
  switch (kind) {
    case 'count':
    case 'amount':
      return Number(value).toLocaleString('en-US');
    case 'percent':
      return Number(value).toFixed(2);
    case 'minute':
    case 'hour':
      return String(value).slice(0, 16).replace('T', ' ');
    case 'day':
      return String(value).slice(0, 10);
    case 'time':
      return String(value).slice(0, 23).replace('T', ' ');
    default:
      return String(value);
  }
}

export interface ListedReport {
  name: string;
  description: string;
  options: string;
}

/** `kes report list` and `GET /reports`: names, descriptions, and each report's options with their defaults. */
export function listReports(definitions: readonly ReportDefinition[], flagPrefix = '--'): ListedReport[] {
  return definitions.map((d) => ({
    name: d.name,
    description: d.description,
    options: d.options
      .map((o) => {
        const choices = o.choices ? ` <${o.choices.join('|')}>` : o.max !== undefined ? ` <1..${o.max}>` : '';
        const value = o.default !== undefined ? `=${o.default}` : '';
        return `${flagPrefix}${o.name}${choices}${value}`;
      })
      .join(' '),
  }));
}

export function renderReportList(definitions: readonly ReportDefinition[], format: OutputFormat): string {
  const listed = listReports(definitions);
  return renderRows(
    listed,
    [
      { header: 'name', value: (r) => r.name },
      { header: 'description', value: (r) => r.description },
      { header: 'options', value: (r) => r.options },
    ],
    format,
  );
}
