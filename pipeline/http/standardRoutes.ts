import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { type HealthCheck, healthAnswer, healthRoutes, liveAnswer } from './health.js';

/** `GET /metrics`: Prometheus' text format. */
export const metricsSchema = {
  tags: ['metrics'],
  summary: 'Prometheus metrics (text exposition format), the process metrics included',
  response: {
    200: { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
  },
} as const;

/**
 * The routes every kes process serves, in one shape: `GET /health/live`, `GET /health/ready` (`readyChecks` names
 * each part the process needs; a 503 carries Retry-After: 1) and `GET /metrics`.
 */
export function registerStandardRoutes(
  app: FastifyInstance,
  options: { readyChecks: () => Record<string, HealthCheck>; registry: Registry },
): void {
  app.get('/health/live', { schema: healthRoutes.live }, async () => liveAnswer());
  app.get('/health/ready', { schema: healthRoutes.ready }, async (_request, reply) => {
    const { code, body } = healthAnswer(options.readyChecks());
    if (code !== 200) reply.header('Retry-After', '1');
    return reply.code(code).send(body);
  });
  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    reply.header('Content-Type', options.registry.contentType);
    return options.registry.metrics();
  });
}
