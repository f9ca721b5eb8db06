/**
 * kes as a library, for services that embed it: run a guard (appends and commands) or a projector in-process with
 * your own modules and reports, write domain modules, talk to guards over HTTP. `handleCommand` on a started guard
 * runs a module's command exactly as `POST /commands/{category}/{id}` does. The example bank is not part of it: the
 * `kes` commands load it from a user file (dist/example/modules.js, given to --modules and --projections), the same
 * way a service hosts its own modules and reports.
 *
 *   const guard = await startGuard(loadConfig(), { modules: [anyModule(myModule)] });
 *   await guard.handleCommand(anyModule(myModule), 'id-1', { type: 'open', data: { … } });
 *   const sub = subscribe({ categories: ['account'], group: 'mailer' }, async (event) => { … }); // docs/subscribe.md
 */
export { CommandClient } from './guard/client/commandClient.js';
export { GuardClient } from './guard/client/guardClient.js';
export { GuardPool } from './guard/client/guardPool.js';
export type { CommandResult } from './guard/commands/commandHandler.js';
export type { CommandRequest } from './guard/commands/commandRequest.js';
export type { Command, CommandModule, CommandSchemas, Decider, DomainEvent } from './guard/commands/decider.js';
export { anyModule, fold, reject } from './guard/commands/decider.js';
export { deciderSpec } from './guard/commands/deciderSpec.js';
export { type RunningGuard, startGuard } from './guard/guard.js';
export { type KesConfig, loadConfig } from './pipeline/config/config.js';
export * from './pipeline/errors.js';
export type { HealthAnswer, HealthCheck, HealthStatus } from './pipeline/http/health.js';
export { createLogger, type KesLogger, type Logger, type LogLevel } from './pipeline/log/logger.js';
export type { Position, StartFrom } from './pipeline/subscribe/position.js';
export {
  type HandlerContext,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
  subscribe,
} from './pipeline/subscribe/subscribe.js';
export type { SubscribedEvent } from './pipeline/subscribe/subscribedEvent.js';
export type { HandlerRetry } from './pipeline/subscribe/subscribeOptions.js';
export { type RunningProjector, type StartProjectorOptions, startProjector } from './projectors/projector.js';
export type { Projection } from './projectors/readModels/projection.js';
export { PROJECTIONS as coreProjections } from './projectors/readModels/registry.js';
export {
  type ProjectedEvent,
  type TableProjectionSpec,
  tableProjection,
} from './projectors/readModels/tableProjection.js';
export { ReportCatalog } from './projectors/reports/reportCatalog.js';
export { coreReports, type ReportDefinition } from './projectors/reports/reportDefinitions.js';
