import pg from 'pg';
import type { KesConfig } from '../../pipeline/config/config.js';
import { PostgresUnavailableError } from './messageStoreErrors.js';

/**
 * The Postgres the lab compares kes with: POSTGRES_URL (stack.env, written by `kes stack up`), checked to answer
 * before an experiment spends its minutes, so a missing server fails at once with what to do about it.
 */
export async function reachablePostgresUrl(config: Pick<KesConfig, 'POSTGRES_URL'>, timeoutMs = 5000): Promise<string> {
  const url = config.POSTGRES_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return url;
  } catch (error) {
    throw new PostgresUnavailableError(url, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
