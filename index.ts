/**
 * kes as a library, for services that embed it: run a guard (appends and commands) in-process, write domain modules,
 * talk to guards over HTTP. `handleCommand` on a started guard runs a module's command exactly as
 * `POST /commands/{category}/{id}` does.
 *
 *   const guard = await startGuard(loadConfig(), { modules: [myModule] });
 *   await guard.handleCommand(myModule, 'id-1', { type: 'open', data: { … } });
 */
export type { AccountCommand, AccountEvent, AccountState } from './example/accounts/account.js';
export { accountModule } from './example/accounts/account.js';
export { EXAMPLE_MODULES } from './example/modules.js';
export type { TransferCommand, TransferEvent, TransferState } from './example/transfers/transfer.js';
export { transferModule } from './example/transfers/transfer.js';
export { CommandClient } from './guard/client/commandClient.js';
export { GuardClient } from './guard/client/guardClient.js';
export type { CommandResult } from './guard/commands/commandHandler.js';
export type { CommandRequest } from './guard/commands/commandRequest.js';
export type { Command, CommandModule, CommandSchemas, Decider, DomainEvent } from './guard/commands/decider.js';
export { anyModule, fold, reject } from './guard/commands/decider.js';
export { type RunningGuard, startGuard } from './guard/guard.js';
export { type KesConfig, loadConfig } from './pipeline/config/config.js';
export * from './pipeline/errors.js';
