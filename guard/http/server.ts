import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { KesError } from '../../pipeline/errors.js';
import { appendAnswer } from '../append/appendOutcome.js';
import { ATTEMPT_DEADLINE_HEADER, parseAttemptDeadline } from '../append/attemptDeadline.js';
import { type ErrorAnswer, errorAnswer } from '../append/errorAnswers.js';
import type { CommandHandler } from '../commands/commandHandler.js';
import type { CommandModule } from '../commands/decider.js';
import type { StreamReader } from '../read/streamReader.js';
import type { GuardMetrics } from '../metrics.js';
import type { AppendService } from '../write/appendService.js';
import type { ApiKeys } from './apiKeys.js';
import { registerCommandRoutes } from './commandRoutes.js';
import { registerReadRoutes } from './readRoutes.js';

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
  reader?: StreamReader;
}): FastifyInstance {
  const { service, keys, metrics } = options;
  const app = Fastify({ bodyLimit: options.maxBodyBytes, logger: false, return503OnClosing: true });

  app.post<{ Params: { stream: string } }>('/streams/:stream/events', async (request, reply) => {
    const principal = keys.authenticateHeaders(request.headers);
    const deadline = parseAttemptDeadline(request.headers[ATTEMPT_DEADLINE_HEADER]);
    return reply.send(appendAnswer(await service.append(request.params.stream, request.body, principal, deadline)));
  });

  app.get<{ Params: { stream: string } }>('/streams/:stream', async (request) => {
    keys.authenticateHeaders(request.headers);
    return service.streamVersion(request.params.stream);
  });

  if (options.commands) registerCommandRoutes(app, { ...options.commands, keys });
  if (options.reader) registerReadRoutes(app, { keys, reader: options.reader, locate: (s) => service.locate(s) });

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
