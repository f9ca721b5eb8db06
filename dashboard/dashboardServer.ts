import Fastify, { type FastifyInstance } from 'fastify';
import { liveAnswer } from '../pipeline/http/health.js';
import { loadAssets } from './pageAssets.js';
import { PipelinePoller, type PollerOptions } from './pipelinePoller.js';

export interface DashboardOptions extends PollerOptions {
  /** 0 picks a free port. */
  port: number;
  /** @default 127.0.0.1 */
  host?: string;
}

export interface RunningDashboard {
  url: string;
  poller: PipelinePoller;
  close(): Promise<void>;
}

/**
 * The live dashboard: a page (plain JS and ECharts, all served from here) polling this server's JSON every second:
 * `GET /api/snapshot` (health, totals, the latest frame), `GET /api/series` (the frames of the rolling window),
 * `GET /api/reports` (the projector's reports, read every few seconds).
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const assets = loadAssets();
  const poller = new PipelinePoller(options);
  const app: FastifyInstance = Fastify({ logger: false });
  for (const [path, asset] of assets) {
    app.get(path, async (_request, reply) =>
      reply.header('cache-control', 'no-cache').type(asset.type).send(asset.body),
    );
  }
  app.get('/api/snapshot', async () => poller.snapshot());
  app.get('/api/series', async () => poller.series());
  app.get('/api/reports', async () => ({ reports: poller.reportStates() }));
  // The demo waits for this before it prints the address (example/demo/demoServices.ts).
  app.get('/health/live', async () => liveAnswer());
  // Browsers ask for it; a 204 keeps their consoles free of a 404.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  poller.start();
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    poller,
    async close() {
      await poller.stop();
      await app.close();
    },
  };
}
