import Fastify, { type FastifyInstance } from 'fastify';
import type { ProjectorMetrics } from '../metrics.js';
import type { ProjectorService } from '../run/projectorService.js';

export interface ProjectorServerOptions {
  service: ProjectorService;
  metrics: ProjectorMetrics;
  /** More routes (reports, stream reads), mounted by the caller. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

/** The projector's HTTP API: health, Prometheus metrics, what this process runs, and whatever plugins add. */
export async function buildProjectorServer(options: ProjectorServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/health/live', async () => ({ live: true }));
  app.get('/health/ready', async (_request, reply) => {
    const runtime = options.service.runtime();
    const ready = runtime.every((r) => r.running || r.topics.length === 0);
    return reply.code(ready ? 200 : 503).send({ ready, projections: runtime });
  });
  app.get('/projections', async () => ({ projections: options.service.runtime() }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}
