import { fileURLToPath } from 'node:url';
import { anyModule, type CommandModule } from '../guard/commands/decider.js';
import type { Projection } from '../projectors/readModels/projection.js';
import type { ReportDefinition } from '../projectors/reports/reportDefinitions.js';
import { accountModule } from './accounts/account.js';
import { bankReports } from './reports/bankReports.js';
import { transferModule } from './transfers/transfer.js';

/**
 * The bank's file: the example domain as a user's file, in the shape every such file has
 * (docs/modules-and-projections.md). Compiled to dist/example/modules.js (BANK_MODULES_FILE), the demo gives it to
 * `kes guard --modules` (its `modules`: accounts, service `accounts`, and transfers, `transfers`) and to
 * `kes project --projections` (its `reports`); `kes report <bank report> --projections` reads it too. No core command
 * hosts the bank without it.
 */
export const modules: readonly CommandModule[] = [anyModule(accountModule), anyModule(transferModule)];

/** None of its own: the bank's reports read kes's `events` read model. */
export const projections: readonly Projection[] = [];

/** balances, money-daily, transfers, money-check (example/reports/bankReports.ts). */
export const reports: readonly ReportDefinition[] = bankReports;

/** The same list, for code that imports it (tests hosting the bank in-process). */
export const EXAMPLE_MODULES = modules;

/** The compiled file itself, for `kes guard --modules` and `kes project|report --projections` (built beside this). */
export const BANK_MODULES_FILE = fileURLToPath(new URL('./modules.js', import.meta.url));
