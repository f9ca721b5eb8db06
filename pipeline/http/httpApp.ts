import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { KesLogger } from '../log/logger.js';
import { kesVersion } from '../packageVersion.js';

export interface HttpAppOptions {
  /** The OpenAPI document's title and description. */
  title: string;
  description: string;
  log: KesLogger;
  bodyLimit?: number;
  /** Answer 503 to requests that arrive while the server closes (the guard: finish in-flight appends, take none). */
  return503OnClosing?: boolean;
}

/** The header a request id is taken from (when the client sends one) and answered in. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * A fastify app as every kes process serves HTTP:
 *
 * - Logs through the process's pino logger; every line of a request carries its `reqId` (the client's
 *   `x-request-id`, else a new UUID, answered in `x-request-id`). Requests are logged at debug (a guard answers
 *   thousands a second), answers of 500 and more at warn, so `KES_LOG_LEVEL=debug` shows every request.
 * - Routes declare JSON schemas (params, querystring, body, every response status) that document them: the OpenAPI
 *   3.1 document at `GET /openapi.json` is generated from them by @fastify/swagger, for every route added after
 *   this function returns. The schemas do not validate requests: the routes' own parsers do, and name the
 *   field that is wrong (`events[2].data.amount`, against the event type's Avro schema, which no static schema
 *   can express). Nor do they shape answers: bodies are serialized as the handlers built them, so what is
 *   documented is checked against real answers (test/contract), not made true by stripping fields.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log.pino,
    logController: new KesLogController(),
    requestIdHeader: REQUEST_ID_HEADER,
    genReqId: () => randomUUID(),
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    return503OnClosing: options.return503OnClosing ?? false,
  }) as unknown as FastifyInstance;
  schemasDocumentOnly(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  // Awaited so that its onRoute hook sees every route added after this (the routes of the caller).
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, description: options.description, version: kesVersion() },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API key of KES_API_KEYS' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'the same key, in x-api-key' },
        },
      },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** Fastify's per-request lines at debug (errors at error, answers of 500 and more at warn), with the request id. */
class KesLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else if (reply.statusCode >= 500) reply.log.warn(fields, 'request completed');
    else reply.log.debug(fields, 'request completed');
  }
}

/**
 * Route schemas in `app` (and the plugins under it) document, never validate nor shape: the routes' parsers check
 * requests and answer errors in kes's shapes, and bodies go out as the handlers built them. Plugins that users
 * may register on an app of their own (reportRoutes, streamRoutes) call it on their own scope too.
 */
export function schemasDocumentOnly(app: FastifyInstance): void {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}
