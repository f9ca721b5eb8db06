import type { FastifyInstance } from 'fastify';
import { logLevel } from 'kafkajs';
import type { ClickHouseEngine } from '../pipeline/clickhouse/engine.js';
import { openEngine } from '../pipeline/clickhouse/openEngine.js';
import type { KesConfig } from '../pipeline/config/config.js';
import { createKafka } from '../pipeline/kafka/kafkaClient.js';
import { createLogger } from '../pipeline/log/logger.js';
import { reportRoutes } from './http/reportRoutes.js';
import { buildProjectorServer } from './http/server.js';
import { streamRoutes } from './http/streamRoutes.js';
import { ProjectorMetrics } from './metrics.js';
import type { Projection } from './readModels/projection.js';
import { checkProjections } from './readModels/projectionShape.js';
import { PROJECTIONS } from './readModels/registry.js';
import type { ReportCatalog } from './reports/reportCatalog.js';
import { ProjectorService } from './run/projectorService.js';

export interface StartProjectorOptions {
  /**
   * The projections to run (default: kes's own, `coreProjections`). Add your own with `tableProjection({ … })`:
   * `[...coreProjections, myProjection]`. Each sink table is checked against the duplicate rule when it is created.
   */
  projections?: readonly Projection[];
  /** The reports served at GET /reports (default: the core reports). */
  reports?: ReportCatalog;
  /** Route plugins mounted on the HTTP server (reports, stream reads). */
  plugins?: ((app: FastifyInstance, deps: { config: KesConfig; service: ProjectorService }) => Promise<void>)[];
  log?: (line: string) => void;
  onFatal?: (error: unknown) => void;
  /** An engine the caller owns (tests sharing one embedded engine); by default the projector opens its own. */
  engine?: ClickHouseEngine;
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
  // Checked before anything is opened: projections may be user code loaded from a file.
  const projections = checkProjections(options.projections ?? PROJECTIONS, 'startProjector: projections');
  const engine = options.engine ?? (await openEngine(config));
  const closeEngine = () => (options.engine ? Promise.resolve() : engine.close());
  const kafka = createKafka(config, 'kes-projector', { logLevel: logLevel.NOTHING });
  const metrics = new ProjectorMetrics();
  const service = new ProjectorService({
    settings: config,
    kafka,
    engine,
    projections,
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
      log: createLogger('projector', config.KES_LOG_LEVEL),
      plugins: [
        // Reports and stream reads are served by every projector, over the same engine it writes.
        async (a) => {
          await a.register(reportRoutes, {
            engine,
            database: config.KES_CLICKHOUSE_DATABASE,
            ...(options.reports ? { reports: options.reports } : {}),
          });
          await a.register(streamRoutes, { engine, database: config.KES_CLICKHOUSE_DATABASE });
        },
        ...(options.plugins ?? []).map((plugin) => (a: FastifyInstance) => plugin(a, { config, service })),
      ],
    });
    const address = await app.listen({ host: config.KES_PROJECTOR_HOST, port: config.KES_PROJECTOR_PORT });
    return {
      url: address,
      service,
      metrics,
      async close() {
        await app?.close();
        await service.stop();
        await closeEngine();
      },
    };
  } catch (error) {
    await app?.close().catch(() => {});
    await service.stop().catch(() => {});
    await closeEngine().catch(() => {});
    throw error;
  }
}
