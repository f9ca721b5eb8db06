import { anyModule, type CommandModule } from '../guard/commands/decider.js';
import { accountModule } from './accounts/account.js';
import { transferModule } from './transfers/transfer.js';

/** The example domain's modules, hosted by `kes guard`: accounts (service `accounts`) and transfers (`transfers`). */
export const EXAMPLE_MODULES: readonly CommandModule[] = [anyModule(accountModule), anyModule(transferModule)];
