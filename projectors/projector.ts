import type { FastifyInstance } from 'fastify';
import { logLevel } from 'kafkajs';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import type { KesConfig } from '../pipeline/config/config.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { buildProjectorServer } from './http/server.js';
import { ProjectorMetrics } from './metrics.js';
import type { Projection } from './readModels/projection.js';
import { PROJECTIONS } from './readModels/registry.js';
import { ProjectorService } from './run/projectorService.js';

export interface StartProjectorOptions {
  projections?: readonly Projection[];
  /** Route plugins mounted on the HTTP server (reports, stream reads). */
  plugins?: ((app: FastifyInstance, deps: { config: KesConfig; service: ProjectorService }) => Promise<void>)[];
  log?: (line: string) => void;
  onFatal?: (error: unknown) => void;
}

export interface RunningProjector {
  url: string;
  service: ProjectorService;
  metrics: ProjectorMetrics;
  close(): Promise<void>;
}

/** A projector process's parts: the engine, the consumers of every projection, and the HTTP API. */
export async function startProjector(
  config: KesConfig,
  options: StartProjectorOptions = {},
): Promise<RunningProjector> {
  const engine = await openEngine(config);
  const kafka = createKafka(config, 'kes-projector', { logLevel: logLevel.NOTHING });
  const metrics = new ProjectorMetrics();
  const service = new ProjectorService({
    settings: config,
    kafka,
    engine,
    projections: options.projections ?? PROJECTIONS,
    metrics,
    log: options.log,
    onFatal: options.onFatal,
  });
  let app: FastifyInstance | undefined;
  try {
    await service.start();
    app = await buildProjectorServer({
      service,
      metrics,
      plugins: (options.plugins ?? []).map((plugin) => (a: FastifyInstance) => plugin(a, { config, service })),
    });
    const address = await app.listen({ host: config.KES_PROJECTOR_HOST, port: config.KES_PROJECTOR_PORT });
    return {
      url: address,
      service,
      metrics,
      async close() {
        await app?.close();
        await service.stop();
        await engine.close();
      },
    };
  } catch (error) {
    await app?.close().catch(() => {});
    await service.stop().catch(() => {});
    await engine.close().catch(() => {});
    throw error;
  }
}
