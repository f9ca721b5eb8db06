import { type CheckReport, renderReport as renderCheck } from '../../verify/history/report.js';
import type { DemoOptions, Say } from './demoOptions.js';
import type { DemoResult } from './demoResult.js';
import { renderSummaryTable } from './summaryTable.js';

/**
 * Prints the result on stdout: the summary table after a blank line on stderr (`--format table`), or the result as
 * JSON with `kes check`'s own JSON report under `checkReport` (`--format json`).
 */
export function printSummary(result: DemoResult, check: CheckReport, options: DemoOptions, say: Say): void {
  if (options.format === 'table') {
    say('');
    process.stdout.write(`${renderSummaryTable(result, check, options)}\n`);
  } else {
    process.stdout.write(
      `${JSON.stringify({ ...result, checkReport: JSON.parse(renderCheck(check, 'json')) }, null, 2)}\n`,
    );
  }
}
