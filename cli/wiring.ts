import { bankReportCatalog } from '../example/reports/reportCatalog.js';
import type { ReportCatalog } from '../projectors/reports/reportCatalog.js';

/**
 * What the `kes` commands host besides what a user's files add: the one place where the core meets a domain. The
 * library takes its modules, projections and reports as arguments and never imports a domain. Command modules are
 * no longer built in: `kes guard` hosts those of `--modules <file>` (the demo gives the bank's, example/modules.ts),
 * and `kes project --projections <file>` adds projections and reports. The bank's reports are still served here by
 * default, so that `kes report balances` works on the demo's data without a flag.
 */
export const hostedReports: ReportCatalog = bankReportCatalog;
