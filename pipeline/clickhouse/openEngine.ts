import { defaultEmbeddedMaxBodyBytes, defaultEmbeddedPort, type KesConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { ClusterEngine } from './clusterEngine.js';
import type { ClickHouseEngine } from './engine.js';
import { openEmbedded } from './ownership.js';
import { ServerEngine } from './serverEngine.js';

export type OpenEngineConfig = Pick<KesConfig, 'CLICKHOUSE_URL' | 'CLICKHOUSE_EMBEDDED_PATH'> &
  Partial<
    Pick<
      KesConfig,
      'KES_CLICKHOUSE_EMBEDDED_PORT' | 'KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES' | 'KES_CLICKHOUSE_CLUSTER' | 'explicit'
    >
  >;

export interface OpenEngineOptions {
  /** How long to wait for an embedded owner that is starting or closing (default 30 s). */
  waitMs?: number;
  progress?: (line: string) => void;
}

/**
 * The read-model engine:
 * - CLICKHOUSE_URL set: that server (kind `server`); with KES_CLICKHOUSE_CLUSTER too, its DDL runs ON CLUSTER as
 *   Replicated and Distributed tables (clusterEngine.ts);
 * - else the embedded engine at CLICKHOUSE_EMBEDDED_PATH: through its live owner's HTTP facade (kind
 *   `embedded-remote`, found in `<path>/owner.json`), or, when nobody owns it, opened and served by this process
 *   (kind `embedded`, facade on KES_CLICKHOUSE_EMBEDDED_PORT). See ownership.ts.
 *
 * A remote engine whose owner went away fails with ServiceUnavailableError (retriable): close it and call
 * openEngine again, which finds the new owner or takes the path over.
 */
export async function openEngine(config: OpenEngineConfig, options: OpenEngineOptions = {}): Promise<ClickHouseEngine> {
  if (config.KES_CLICKHOUSE_CLUSTER) {
    // Replicated tables need servers with Keeper; the embedded engine is one process with no cluster.
    if (!config.CLICKHOUSE_URL) throw new ConfigError('KES_CLICKHOUSE_CLUSTER', 'needs CLICKHOUSE_URL (a server)');
    return new ClusterEngine(new ServerEngine(config.CLICKHOUSE_URL), config.KES_CLICKHOUSE_CLUSTER);
  }
  if (config.CLICKHOUSE_URL) return new ServerEngine(config.CLICKHOUSE_URL);
  return openEmbedded(config.CLICKHOUSE_EMBEDDED_PATH, {
    port: config.KES_CLICKHOUSE_EMBEDDED_PORT ?? defaultEmbeddedPort,
    explicitPort: config.explicit?.has('KES_CLICKHOUSE_EMBEDDED_PORT') ?? false,
    maxBodyBytes: config.KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES ?? defaultEmbeddedMaxBodyBytes,
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });
}
