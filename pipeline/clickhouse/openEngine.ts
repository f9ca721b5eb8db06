import type { KesConfig } from '../config/config.js';
import { EmbeddedEngine } from './embeddedEngine.js';
import type { ClickHouseEngine } from './engine.js';
import { ServerEngine } from './serverEngine.js';

/** The read-model engine: the server at CLICKHOUSE_URL when set, else the embedded engine at its data path. */
export async function openEngine(
  config: Pick<KesConfig, 'CLICKHOUSE_URL' | 'CLICKHOUSE_EMBEDDED_PATH'>,
): Promise<ClickHouseEngine> {
  return config.CLICKHOUSE_URL
    ? new ServerEngine(config.CLICKHOUSE_URL)
    : EmbeddedEngine.open(config.CLICKHOUSE_EMBEDDED_PATH);
}
