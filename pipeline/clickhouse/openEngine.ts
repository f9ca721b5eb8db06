import { defaultEmbeddedMaxBodyBytes, defaultEmbeddedPort, type KesConfig } from '../config/config.js';
import type { ClickHouseEngine } from './engine.js';
import { openEmbedded } from './ownership.js';
import { ServerEngine } from './serverEngine.js';

export type OpenEngineConfig = Pick<KesConfig, 'CLICKHOUSE_URL' | 'CLICKHOUSE_EMBEDDED_PATH'> &
  Partial<Pick<KesConfig, 'KES_CLICKHOUSE_EMBEDDED_PORT' | 'KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES' | 'explicit'>>;

export interface OpenEngineOptions {
  /** How long to wait for an embedded owner that is starting or closing (default 30 s). */
  waitMs?: number;
  progress?: (line: string) => void;
}

/**
 * The read-model engine:
 * - CLICKHOUSE_URL set: that server (kind `server`);
 * - else the embedded engine at CLICKHOUSE_EMBEDDED_PATH: through its live owner's HTTP facade (kind
 *   `embedded-remote`, found in `<path>/owner.json`), or, when nobody owns it, opened and served by this process
 *   (kind `embedded`, facade on KES_CLICKHOUSE_EMBEDDED_PORT). See ownership.ts.
 *
 * A remote engine whose owner went away fails with ServiceUnavailableError (retriable): close it and call
 * openEngine again, which finds the new owner or takes the path over.
 */
export async function openEngine(config: OpenEngineConfig, options: OpenEngineOptions = {}): Promise<ClickHouseEngine> {
  if (config.CLICKHOUSE_URL) return new ServerEngine(config.CLICKHOUSE_URL);
  return openEmbedded(config.CLICKHOUSE_EMBEDDED_PATH, {
    port: config.KES_CLICKHOUSE_EMBEDDED_PORT ?? defaultEmbeddedPort,
    explicitPort: config.explicit?.has('KES_CLICKHOUSE_EMBEDDED_PORT') ?? false,
    maxBodyBytes: config.KES_CLICKHOUSE_EMBEDDED_MAX_BODY_BYTES ?? defaultEmbeddedMaxBodyBytes,
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });
}
