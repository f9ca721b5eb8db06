import { writeFileSync } from 'node:fs';
import { renderRows } from '../../pipeline/output/textOutput.js';
import type { Verdict } from './figures.js';

/** The first line of every benchmark's tables: what ran, where, on which code. */
export function headerLine(title: string, id: string, m: Record<string, string | number>): string {
  return `${title} ${id} — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, ${m.date}, code ${m.code}`;
}

export function settingsLine(settings: Record<string, string | number>): string {
  return `settings: ${Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}

export function verdictTable(verdicts: readonly Verdict[]): string {
  return renderRows(
    verdicts,
    [
      { header: 'target', value: (v: Verdict) => v.target },
      { header: 'measured', value: (v: Verdict) => v.measured },
      { header: 'result', value: (v: Verdict) => v.result },
    ],
    'table',
  );
}

/** The figures on stdout: one JSON object, or the tables (built only when asked for); `jsonOut` also gets the JSON. */
export function printFigures(out: unknown, json: boolean, tables: () => string[], jsonOut?: string): void {
  const text = `${JSON.stringify(out, null, 2)}\n`;
  if (jsonOut) writeFileSync(jsonOut, text);
  if (json) process.stdout.write(text);
  else process.stdout.write(`${tables().join('\n')}\n`);
}
