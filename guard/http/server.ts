import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import {
  AppendIndeterminateError,
  CommandConflictError,
  CommandRejectedError,
  EventIdConflictError,
  ForbiddenError,
  InvalidRequestError,
  KesError,
  ModuleError,
  NotReadyError,
  TooLargeError,
  UnauthorizedError,
  WrongExpectedVersionError,
} from '../../pipeline/errors.js';
import type { CommandHandler } from '../commands/commandHandler.js';
import type { CommandModule } from '../commands/decider.js';
import type { GuardMetrics } from '../metrics.js';
import type { AppendService } from '../write/appendService.js';
import type { ApiKeys } from './apiKeys.js';
import { registerCommandRoutes } from './commandRoutes.js';

/**
 * The guard's HTTP API. Every answer is JSON; every error names what was wrong and where, and says by its status
 * whether anything could have been written: only 200, 500 outcome_unknown, and a 422 whose module records its
 * refusals (a saga's step refused for good, e.g. TransferStepRefused) can have written anything.
 */
export function buildServer(options: {
  service: AppendService;
  keys: ApiKeys;
  metrics: GuardMetrics;
  maxBodyBytes: number;
  commands?: { handler: CommandHandler; modules: readonly CommandModule[] };
}): FastifyInstance {
  const { service, keys, metrics } = options;
  const app = Fastify({ bodyLimit: options.maxBodyBytes, logger: false, return503OnClosing: true });

  app.post<{ Params: { stream: string } }>('/streams/:stream/events', async (request, reply) => {
    const principal = keys.authenticate(request.headers.authorization, header(request.headers['x-api-key']));
    const outcome = await service.append(request.params.stream, request.body, principal);
    return reply.send({
      stream: outcome.stream,
      firstVersion: outcome.firstVersion,
      lastVersion: outcome.lastVersion,
      topic: outcome.topic,
      partition: outcome.partition,
      offset: outcome.offset,
      ...(outcome.duplicate ? { duplicate: true } : {}),
    });
  });

  app.get<{ Params: { stream: string } }>('/streams/:stream', async (request) => {
    keys.authenticate(request.headers.authorization, header(request.headers['x-api-key']));
    return service.streamVersion(request.params.stream);
  });

  if (options.commands) registerCommandRoutes(app, { ...options.commands, keys });

  app.get('/health/live', async () => ({ status: 'live' }));
  app.get('/health/ready', async (_request, reply) => {
    const { ready, reason } = service.readiness();
    if (!ready) reply.header('Retry-After', '1').code(503);
    return ready ? { status: 'ready' } : { status: 'not_ready', reason };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url}`, path: 'url' });
  });
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  return app;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof WrongExpectedVersionError) {
    return reply.code(409).send({
      error: 'wrong_expected_version',
      stream: error.stream,
      expected: error.expected,
      actual: error.actual,
      message: error.message,
    });
  }
  if (error instanceof CommandRejectedError) {
    return reply.code(422).send({
      error: 'command_rejected',
      code: error.reason,
      message: error.message,
      stream: error.stream,
      version: error.version,
    });
  }
  if (error instanceof CommandConflictError) {
    return reply.code(409).send({
      error: 'concurrency_conflict',
      stream: error.stream,
      attempts: error.attempts,
      expected: error.expected,
      actual: error.actual,
      message: error.message,
      retriable: true,
    });
  }
  if (error instanceof ModuleError) {
    return reply.code(500).send({ error: 'module_failed', message: error.message });
  }
  if (error instanceof EventIdConflictError) {
    return reply
      .code(409)
      .send({ error: 'event_id_conflict', stream: error.stream, eventId: error.eventId, message: error.message });
  }
  if (error instanceof InvalidRequestError) {
    return reply.code(400).send({ error: error.error, message: error.message, path: error.path });
  }
  if (error instanceof TooLargeError) {
    return reply.code(413).send({ error: 'too_large', message: error.message, path: error.path });
  }
  if (error instanceof UnauthorizedError)
    return reply.code(401).send({ error: 'unauthorized', message: error.message });
  if (error instanceof ForbiddenError) return reply.code(403).send({ error: 'forbidden', message: error.message });
  if (error instanceof NotReadyError) {
    return reply
      .code(503)
      .header('Retry-After', String(error.retryAfterS))
      .send({ error: 'not_ready', message: error.message, retriable: true });
  }
  if (error instanceof AppendIndeterminateError) {
    return reply.code(500).send({ error: 'outcome_unknown', message: error.message, retriable: true });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.code(413).send({ error: 'too_large', message: 'request body exceeds the limit', path: 'body' });
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply
      .code(415)
      .send({ error: 'unsupported_media_type', message: 'send application/json', path: 'content-type' });
  }
  if (fastifyError.statusCode === 400 || fastifyError.code?.startsWith('FST_ERR_CTP')) {
    return reply.code(400).send({ error: 'malformed_body', message: fastifyError.message, path: 'body' });
  }
  if (error instanceof KesError && error.retriable) {
    return reply
      .code(503)
      .header('Retry-After', '1')
      .send({ error: 'unavailable', message: error.message, retriable: true });
  }
  // Anything else happened before a reservation (a service unreachable while preparing): nothing was written.
  return reply
    .code(503)
    .header('Retry-After', '1')
    .send({
      error: 'unavailable',
      message: error instanceof Error ? error.message : String(error),
      retriable: true,
    });
}
