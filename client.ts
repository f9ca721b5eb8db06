/**
 * `kes/client`: the typed clients of the guard alone, for services that only talk to guards over HTTP. Importing it
 * loads none of the embedded ClickHouse, Kafka, Redis or the HTTP server (the `client-stays-light` import rule, and
 * client.int.test.ts, which packs kes and imports this entry point in a bare project).
 *
 *   import { GuardClient } from 'kes/client';
 *   const guard = new GuardClient({ url: 'http://127.0.0.1:18090', apiKey });
 *   await guard.appendToStream('account-42', [{ type: 'Opened', data: { … } }], { expectedVersion: 'no_stream' });
 *   // concurrent appendToStream calls share batch requests (coalesce: { lingerMs: 1, maxAppends: 256 } | false);
 *   // appendMany(items) gives each item its own result or error; appendAtomically(items) writes all or none.
 */
export type { Expected } from './guard/append/expectedVersion.js';
export { CommandClient, type CommandClientOptions, type SendOptions } from './guard/client/commandClient.js';
export {
  type AppendCallOptions,
  type AppendItem,
  type AppendManyResult,
  type AppendResult,
  type AttemptReport,
  type CoalesceOptions,
  GuardClient,
  type GuardClientOptions,
  type NewEvent,
  type ReadAnswer,
  type ReadEvent,
  type ReadStreamOptions,
} from './guard/client/guardClient.js';
export { GuardPool, type GuardPoolOptions } from './guard/client/guardPool.js';
export type { CommandResult } from './guard/commands/commandResult.js';
export * from './pipeline/errors.js';
