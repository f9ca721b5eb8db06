import type { FastifyInstance } from 'fastify';
import type { HealthCheck } from '../../pipeline/http/health.js';
import { createHttpApp } from '../../pipeline/http/httpApp.js';
import { registerStandardRoutes } from '../../pipeline/http/standardRoutes.js';
import type { KesLogger } from '../../pipeline/log/logger.js';
import type { ProjectorMetrics } from '../metrics.js';
import type { ProjectionRuntime, ProjectorService } from '../run/projectorService.js';
import { projectionsSchema } from './routeSchemas.js';

export interface ProjectorServerOptions {
  service: ProjectorService;
  metrics: ProjectorMetrics;
  log: KesLogger;
  /** More routes (reports, stream reads), mounted by the caller; give them schemas and they are in /openapi.json. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

/** The projector's HTTP API: health, Prometheus metrics, what this process runs, and whatever plugins add. */
export async function buildProjectorServer(options: ProjectorServerOptions): Promise<FastifyInstance> {
  const app = await createHttpApp({
    title: 'kes projector',
    description: 'Read models of the log in ClickHouse: reports, stream reads (eventual), probes and metrics',
    log: options.log,
  });
  registerStandardRoutes(app, {
    registry: options.metrics.registry,
    readyChecks: () => Object.fromEntries(options.service.runtime().map((r) => [r.projection, projectionCheck(r)])),
  });
  app.get('/projections', { schema: projectionsSchema }, async () => ({ projections: options.service.runtime() }));
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}

/** A projection is ready once its consumer runs, or while its category has no topic yet (nothing to project). */
export function projectionCheck(runtime: ProjectionRuntime): HealthCheck {
  if (runtime.running) return { status: 'ok' };
  if (runtime.topics.length === 0) return { status: 'ok', detail: 'no topic yet: nothing to project' };
  return { status: 'starting', detail: 'its consumer has not started' };
}
