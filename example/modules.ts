import { fileURLToPath } from 'node:url';
import { anyModule, type CommandModule } from '../guard/commands/decider.js';
import { accountModule } from './accounts/account.js';
import { transferModule } from './transfers/transfer.js';

/**
 * The bank's module file: the example domain's modules, accounts (service `accounts`) and transfers (`transfers`).
 * Compiled to dist/example/modules.js, it is what `kes guard --modules` loads for the demo (BANK_MODULES_FILE), in
 * the shape every module file has: a named export `modules` (docs/modules-and-projections.md).
 */
export const modules: readonly CommandModule[] = [anyModule(accountModule), anyModule(transferModule)];

/** The same list, for code that imports it (tests hosting the bank in-process). */
export const EXAMPLE_MODULES = modules;

/** The compiled file itself, for `kes guard --modules` (this file's .js beside it once built). */
export const BANK_MODULES_FILE = fileURLToPath(new URL('./modules.js', import.meta.url));
