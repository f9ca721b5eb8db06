import type { FastifyError, FastifyInstance } from 'fastify';

/** The body of a read that failed for a reason other than its input: ClickHouse unreachable or failing. */
export interface ReadFailedBody {
  error: 'read_failed';
  message: string;
  retriable: true;
}

/** The 500 body for an error a read route did not refuse (pure: errorAnswers' counterpart for the projector). */
export function readFailedBody(error: unknown): ReadFailedBody {
  const cause = error instanceof Error ? error.message : String(error);
  return { error: 'read_failed', message: `the read models could not be read: ${cause}`, retriable: true };
}

/**
 * A read route's errors in kes's shape rather than fastify's default `{statusCode, error, message}`: whatever a
 * route did not answer itself (400, 404, 503) is a 500 `read_failed` (documented as readFailed in
 * routeSchemas.ts), logged with the request id. Refusals fastify makes itself before a handler (a status below
 * 500) keep their status. Called by reportRoutes and streamRoutes on their own scope, so that an app of a user's
 * that registers them answers the same.
 */
export function answerReadErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: 'invalid_request', message: error.message });
    request.log.error({ err: error }, 'read failed');
    return reply.code(500).send(readFailedBody(error));
  });
}
