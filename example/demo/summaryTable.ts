import { renderRows } from '../../pipeline/output/textOutput.js';
import { type CheckReport, renderReport as renderCheck } from '../../verify/history/report.js';
import type { DemoOptions } from './demoOptions.js';
import { renderDemoReports } from './demoReports.js';
import type { DemoResult } from './demoResult.js';
import { whereToLookNext } from './whereToLookNext.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/**
 * The demo's summary as text (`--format table`): the workload's figures, the reports, `kes check`, the ledger
 * check, the verdict, and where to look next.
 */
export function renderSummaryTable(result: DemoResult, check: CheckReport, options: DemoOptions): string {
  return [
    workloadTable(result, options),
    '',
    ...renderDemoReports(result.reports).flatMap((b) => [b, '']),
    'kes check (acknowledged commands against the log; read models against the log):',
    renderCheck(check, 'table'),
    '',
    ...ledgerLines(result),
    '',
    result.ok ? 'demo: every check passed' : 'demo: CHECKS FAILED (see above)',
    '',
    ...whereToLookNext(result, options),
  ].join('\n');
}

function workloadTable(result: DemoResult, options: Pick<DemoOptions, 'concurrency' | 'guards'>): string {
  const w = result.workload;
  const rejected = Object.entries(w.rejected)
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(', ');
  return renderRows(
    [
      [
        'commands',
        `${n(w.commands)} in ${w.seconds.toFixed(1)} s (${n(w.commandsPerS)}/s, ${options.concurrency} clients, ` +
          `${options.guards} guard${options.guards === 1 ? '' : 's'})`,
      ],
      ['written', n(w.ok)],
      ['refused by a business rule (422)', rejected || '0'],
      ['compare-and-swap conflicts, decided again', n(w.conflictsRetried)],
      ['conflicts that outlived the retries (409)', n(w.conflictsSpent)],
      ['errors', w.errors === 0 ? '0' : `${n(w.errors)}`],
      ['latency p50 / p99', `${w.p50Ms} ms / ${w.p99Ms} ms`],
      [
        'transfers',
        Object.entries(result.transfers)
          .map(([s, c]) => `${s} ${n(c)}`)
          .join(', ') || 'none',
      ],
      ['drain (transfers finished, read models caught up)', `${result.drainSeconds.toFixed(1)} s`],
    ],
    [
      { header: 'workload', value: (r: string[]) => r[0] },
      { header: '', value: (r: string[]) => r[1] },
    ],
    'table',
  );
}

/** The ledger check's totals per currency beside what the clients were told, and its first violations. */
function ledgerLines(result: DemoResult): string[] {
  const ledger = result.ledger;
  return [
    `ledger check (the bank's rules over the Kafka log, run ${result.runId}): ${ledger.events.toLocaleString('en-US')} events, ` +
      `${ledger.accounts.open} accounts open, ${ledger.accounts.closed} closed`,
    ...ledger.currencies.map(
      (c) =>
        `  ${c.currency}: in ${n(c.externalIn)}, out ${n(c.externalOut)}, balances ${n(c.balances)}, held by transfers ${n(c.heldByTransfers)}` +
        ` (clients were told: in ${n(result.acknowledged[c.currency]?.externalIn ?? 0)}, out ${n(result.acknowledged[c.currency]?.externalOut ?? 0)})`,
    ),
    ledger.violations.length === 0
      ? '  no violations'
      : ledger.violations
          .slice(0, 20)
          .map((v) => `  ${v}`)
          .join('\n'),
  ];
}
