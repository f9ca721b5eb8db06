import { EXAMPLE_MODULES } from '../example/modules.js';
import { bankReportCatalog } from '../example/reports/reportCatalog.js';
import type { CommandModule } from '../guard/commands/decider.js';
import type { ReportCatalog } from '../projectors/reports/reportCatalog.js';

/**
 * What the `kes` commands host: the one place where the core meets a domain. The library takes its modules and
 * reports as arguments (startGuard({ modules }), startProjector({ reports })) and never imports a domain; the CLI
 * hands it the example bank's, so that `kes guard`, `kes project` and `kes report` run the demo's domain.
 */
export const hostedModules: readonly CommandModule[] = EXAMPLE_MODULES;
export const hostedReports: ReportCatalog = bankReportCatalog;
