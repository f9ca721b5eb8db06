import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { ConfigError } from '../../pipeline/errors.js';

/**
 * The oldest ClickHouse the read models run on: DateTime64, query parameters, groupBitmap states, FINAL on
 * ReplacingMergeTree, and EXCHANGE TABLES (Atomic databases) all exist since 23.8, the oldest LTS kes supports.
 */
export const MIN_CLICKHOUSE = [23, 8] as const;

export async function assertSupportedEngine(engine: ClickHouseEngine): Promise<string> {
  let version: string;
  try {
    version = await engine.version();
  } catch (error) {
    // An engine that does not even answer SELECT version() is reported by the first real statement, with context.
    return `unknown (${(error as Error).message})`;
  }
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < MIN_CLICKHOUSE[0] || (major === MIN_CLICKHOUSE[0] && minor < MIN_CLICKHOUSE[1])) {
    throw new ConfigError(
      engine.kind === 'server' ? 'CLICKHOUSE_URL' : 'CLICKHOUSE_EMBEDDED_PATH',
      `ClickHouse ${version} is too old for the read models (kes needs ${MIN_CLICKHOUSE.join('.')} or newer: DateTime64, query parameters, groupBitmap, EXCHANGE TABLES)`,
    );
  }
  return version;
}
