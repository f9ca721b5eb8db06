import { logLevel } from 'kafkajs';
import { CommandClient } from '../../guard/client/commandClient.js';
import type { KesConfig } from '../../pipeline/config/config.js';
import { topicOf } from '../../pipeline/events/streamName.js';
import { createHttpApp } from '../../pipeline/http/httpApp.js';
import { registerStandardRoutes } from '../../pipeline/http/standardRoutes.js';
import { createKafka } from '../../pipeline/kafka/kafkaClient.js';
import { assertReadCommittedPatched } from '../../pipeline/kafka/readCommittedPatch.js';
import { createLogger, type KesLogger } from '../../pipeline/log/logger.js';
import { openEventCatalog } from '../../pipeline/schemas/eventCatalog.js';
import { TransferProcessManager } from './processManager.js';

export interface RunningTransfers {
  url: string;
  manager: TransferProcessManager;
  close(): Promise<void>;
}

/**
 * The transfers service as a process: the process manager (a consumer group on the transfer topic, sending commands
 * to the guard with the service's own key) and a small HTTP server for health and Prometheus metrics.
 */
export async function startTransfers(
  config: KesConfig,
  options: { port?: number; host?: string; log?: KesLogger; onCrash?: (error: unknown) => void } = {},
): Promise<RunningTransfers> {
  // The consumer filters aborted transactions with kafkajs' own code, patched by kes (docs/projectors.md).
  assertReadCommittedPatched();
  const log = options.log ?? createLogger('transfers', config.KES_LOG_LEVEL);
  const catalog = await openEventCatalog({ registryUrl: config.SCHEMA_REGISTRY_URL, dir: config.KES_SCHEMAS_DIR });
  const kafka = createKafka(config, 'kes-transfers', { logLevel: logLevel.NOTHING });
  const manager = new TransferProcessManager({
    kafka,
    catalog,
    client: new CommandClient({ url: config.KES_GUARD_URL, apiKey: config.KES_TRANSFERS_API_KEY }),
    topic: topicOf(config.KES_TOPIC_PREFIX, 'transfer'),
    group: config.KES_TRANSFERS_GROUP,
    concurrency: config.KES_TRANSFERS_CONCURRENCY,
    sessionTimeoutMs: config.KES_TRANSFERS_SESSION_TIMEOUT_MS,
    log,
  });
  const app = await createHttpApp({
    title: 'kes transfers',
    description: "The transfers process manager's probes and metrics",
    log,
  });
  registerStandardRoutes(app, {
    registry: manager.metrics.registry,
    readyChecks: () => ({
      consumer: manager.ready
        ? { status: 'ok' }
        : { status: 'starting', detail: 'not yet consuming the transfer topic' },
    }),
  });
  const address = await app.listen({
    port: options.port ?? config.KES_TRANSFERS_PORT,
    host: options.host ?? config.KES_TRANSFERS_HOST,
  });
  manager.start().catch((error: unknown) => {
    log.error('process manager stopped', { error });
    options.onCrash?.(error);
  });
  return {
    url: address.replace('[::1]', '127.0.0.1'),
    manager,
    async close() {
      await manager.stop();
      await app.close();
    },
  };
}
