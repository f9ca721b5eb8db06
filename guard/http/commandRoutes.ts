import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../../pipeline/errors.js';
import { ATTEMPT_DEADLINE_HEADER, parseAttemptDeadline } from '../append/attemptDeadline.js';
import type { Principal } from '../append/authority.js';
import { authorizeCommand } from '../append/authority.js';
import { underPath } from '../append/batchRequest.js';
import { errorAnswer } from '../append/errorAnswers.js';
import { parseTraceparentHeader, TRACEPARENT_HEADER } from '../append/traceparentHeader.js';
import { parseCommandBatch } from '../commands/commandBatch.js';
import type { CommandHandler } from '../commands/commandHandler.js';
import { parseCommandRequest } from '../commands/commandRequest.js';
import type { CommandModule } from '../commands/decider.js';
import type { GuardMetrics } from '../metrics.js';
import type { ApiKeys } from './apiKeys.js';
import type { guardRouteSchemas } from './routeSchemas.js';

/**
 * `POST /commands/{category}/{id}` runs a command of the module that owns the category on stream `<category>-<id>`;
 * `GET /commands/{category}/{id}` answers the state a command would be decided on; `GET /commands` lists the hosted modules and their command types. Authority: the caller's key owns the category
 * or lists it under `commands`.
 */
export function registerCommandRoutes(
  app: FastifyInstance,
  options: {
    handler: CommandHandler;
    modules: readonly CommandModule[];
    keys: ApiKeys;
    schemas: ReturnType<typeof guardRouteSchemas>;
    /** Commands in one `POST /commands` at most. */
    maxCommands: number;
    metrics: GuardMetrics;
  },
): void {
  const byCategory = new Map(options.modules.map((m) => [m.category, m]));

  const moduleFor = (request: FastifyRequest<{ Params: { category: string } }>): CommandModule =>
    moduleOf(options.keys.authenticateHeaders(request.headers), request.params.category);

  const moduleOf = (principal: Principal, category: string): CommandModule => {
    const module = byCategory.get(category);
    if (!module) {
      throw new InvalidRequestError(
        'unknown_category',
        'category',
        `no module handles commands for '${category}' (hosted: ${[...byCategory.keys()].join(', ') || 'none'})`,
      );
    }
    authorizeCommand(principal, category);
    return module;
  };

  const { schemas } = options;
  app.post<{ Params: { category: string; id: string } }>(
    '/commands/:category/:id',
    { schema: schemas.command },
    async (request) => {
      const module = moduleFor(request);
      const deadline = parseAttemptDeadline(request.headers[ATTEMPT_DEADLINE_HEADER]);
      const traceparent = parseTraceparentHeader(request.headers[TRACEPARENT_HEADER]);
      return options.handler.handle(
        module,
        request.params.id,
        parseCommandRequest(request.body),
        deadline,
        traceparent,
      );
    },
  );

  // Many commands in one request, each answered on its own (guard/commands/commandBatch.ts).
  app.post('/commands', { schema: schemas.commandBatch }, async (request) => {
    const principal = options.keys.authenticateHeaders(request.headers);
    const deadline = parseAttemptDeadline(request.headers[ATTEMPT_DEADLINE_HEADER]);
    const traceparent = parseTraceparentHeader(request.headers[TRACEPARENT_HEADER]);
    const items = parseCommandBatch(request.body, options.maxCommands);
    options.metrics.batchItems.observe({ route: 'commands' }, items.length);
    const results = await Promise.all(
      items.map(async (item, i) => {
        try {
          if (!item.ok) throw item.error;
          const module = moduleOf(principal, item.category);
          return {
            status: 200,
            ...(await options.handler.handle(module, item.id, item.request, deadline, traceparent)),
          };
        } catch (error) {
          const { status, body } = errorAnswer(
            error instanceof InvalidRequestError ? underPath(error, `commands[${i}]`) : error,
          );
          return { status, ...body };
        }
      }),
    );
    return { results };
  });

  // The state a command would be decided on now: folded from the log, exact at the version it names.
  app.get<{ Params: { category: string; id: string } }>(
    '/commands/:category/:id',
    { schema: schemas.commandState },
    async (request) => options.handler.state(moduleFor(request), request.params.id),
  );

  app.get('/commands', { schema: schemas.modules }, async (request) => {
    options.keys.authenticateHeaders(request.headers);
    return {
      modules: options.modules.map((m) => ({
        category: m.category,
        service: m.service,
        commands: Object.keys(m.commands),
      })),
    };
  });
}
