import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { KesError } from '../../pipeline/errors.js';
import { createHttpApp } from '../../pipeline/http/httpApp.js';
import { registerStandardRoutes } from '../../pipeline/http/standardRoutes.js';
import type { KesLogger } from '../../pipeline/log/logger.js';
import { appendAnswer } from '../append/appendOutcome.js';
import { ATTEMPT_DEADLINE_HEADER, parseAttemptDeadline } from '../append/attemptDeadline.js';
import { type ErrorAnswer, errorAnswer } from '../append/errorAnswers.js';
import { parseTraceparentHeader, TRACEPARENT_HEADER } from '../append/traceparentHeader.js';
import type { CommandHandler } from '../commands/commandHandler.js';
import type { CommandModule } from '../commands/decider.js';
import type { GuardMetrics } from '../metrics.js';
import type { StreamReader } from '../read/streamReader.js';
import type { AppendService } from '../write/appendService.js';
import type { ApiKeys } from './apiKeys.js';
import { registerCommandRoutes } from './commandRoutes.js';
import { registerReadRoutes } from './readRoutes.js';
import { guardRouteSchemas } from './routeSchemas.js';

/**
 * The guard's HTTP API. Every answer is JSON; every error names what was wrong and where, and says by its status
 * whether anything could have been written: only 200, 500 outcome_unknown, and a 422 whose module records its
 * refusals (a saga's step refused for good, e.g. TransferStepRefused) can have written anything. Every route has
 * its schemas in routeSchemas.ts, served as OpenAPI 3.1 at `GET /openapi.json`.
 */
export async function buildServer(options: {
  service: AppendService;
  keys: ApiKeys;
  metrics: GuardMetrics;
  maxBodyBytes: number;
  /** Appends in one `POST /appends`, commands in one `POST /commands`, at most. */
  maxBatch: number;
  log: KesLogger;
  commands?: { handler: CommandHandler; modules: readonly CommandModule[] };
  reader?: StreamReader;
}): Promise<FastifyInstance> {
  const { service, keys, metrics } = options;
  const app = await createHttpApp({
    title: 'kes guard',
    description: 'Appends with a compare-and-swap on the stream version, commands of the hosted modules',
    log: options.log,
    bodyLimit: options.maxBodyBytes,
    return503OnClosing: true,
  });
  const schemas = guardRouteSchemas(options.commands?.modules ?? []);

  app.post<{ Params: { stream: string } }>(
    '/streams/:stream/events',
    { schema: schemas.append },
    async (request, reply) => {
      const principal = keys.authenticateHeaders(request.headers);
      const deadline = parseAttemptDeadline(request.headers[ATTEMPT_DEADLINE_HEADER]);
      const traceparent = parseTraceparentHeader(request.headers[TRACEPARENT_HEADER]);
      return reply.send(
        appendAnswer(await service.append(request.params.stream, request.body, principal, deadline, traceparent)),
      );
    },
  );

  app.post('/appends', { schema: schemas.appendBatch }, async (request, reply) => {
    const principal = keys.authenticateHeaders(request.headers);
    const deadline = parseAttemptDeadline(request.headers[ATTEMPT_DEADLINE_HEADER]);
    const traceparent = parseTraceparentHeader(request.headers[TRACEPARENT_HEADER]);
    const answer = await service.appendBatch(request.body, principal, deadline, traceparent);
    return reply.code(answer.status as 200).send({ results: answer.results });
  });

  app.get<{ Params: { stream: string } }>('/streams/:stream', { schema: schemas.streamVersion }, async (request) => {
    keys.authenticateHeaders(request.headers);
    return service.streamVersion(request.params.stream);
  });

  if (options.commands) {
    registerCommandRoutes(app, { ...options.commands, keys, schemas, maxCommands: options.maxBatch, metrics });
  }
  if (options.reader) {
    registerReadRoutes(app, { keys, reader: options.reader, locate: (s) => service.locate(s), schemas });
  }

  // Not ready before the first validation is starting; not ready after it (Redis lost, rebuilding) is degraded.
  let wasReady = false;
  registerStandardRoutes(app, {
    registry: metrics.registry,
    readyChecks: () => {
      const { ready, reason } = service.readiness();
      wasReady ||= ready;
      return { writes: ready ? { status: 'ok' } : { status: wasReady ? 'degraded' : 'starting', detail: reason } };
    },
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url}`, path: 'url' });
  });
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  return app;
}

/** Fastify's own refusals (body too large, media type, malformed JSON), answered in the shape of the guard's. */
function frameworkAnswer(error: unknown): ErrorAnswer | undefined {
  if (error instanceof KesError) return undefined;
  const fastifyError = error as FastifyError;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      body: { error: 'too_large', message: 'request body exceeds the limit', path: 'body' },
      headers: {},
    };
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      body: { error: 'unsupported_media_type', message: 'send application/json', path: 'content-type' },
      headers: {},
    };
  }
  if (fastifyError.statusCode === 400 || fastifyError.code?.startsWith('FST_ERR_CTP')) {
    return { status: 400, body: { error: 'malformed_body', message: fastifyError.message, path: 'body' }, headers: {} };
  }
  return undefined;
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const answer = frameworkAnswer(error) ?? errorAnswer(error);
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}
