import { ReportCatalog } from '../../projectors/reports/reportCatalog.js';
import { coreReports } from '../../projectors/reports/reportDefinitions.js';
import { bankReports } from './bankReports.js';

/** What a bank deployment serves: the core reports over any event stream, then the bank's own. */
export const bankReportCatalog = new ReportCatalog([...coreReports, ...bankReports]);
