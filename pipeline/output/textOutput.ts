import Table from 'cli-table3';

export type OutputFormat = 'table' | 'json' | 'csv';
export const outputFormats: readonly OutputFormat[] = ['table', 'json', 'csv'];

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | undefined;
  /** Alignment in tables (numbers read best right-aligned); JSON and CSV ignore it. */
  align?: 'left' | 'right';
}

/** Render rows as a readable table (default), JSON (an array of objects) or CSV (RFC 4180 quoting). */
export function renderRows<Row>(rows: readonly Row[], columns: readonly Column<Row>[], format: OutputFormat): string {
  if (format === 'json') {
    return JSON.stringify(
      rows.map((row) => Object.fromEntries(columns.map((c) => [c.header, c.value(row) ?? null]))),
      null,
      2,
    );
  }
  if (format === 'csv') {
    const lines = [columns.map((c) => csvCell(c.header)).join(',')];
    for (const row of rows) lines.push(columns.map((c) => csvCell(c.value(row))).join(','));
    return lines.join('\n');
  }
  const table = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: { head: [], border: [] },
    // No rule between rows: a status or report table should read as a list.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(columns.map((c) => String(c.value(row) ?? '')));
  return table.toString();
}

function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Progress lines go to stderr with the time since the command began, so stdout stays parseable. */
export function progressPrinter(stream: NodeJS.WritableStream = process.stderr): (line: string) => void {
  const began = Date.now();
  return (line) => {
    const seconds = ((Date.now() - began) / 1000).toFixed(1).padStart(5);
    stream.write(`[${seconds}s] ${line}\n`);
  };
}
