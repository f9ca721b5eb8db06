import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { type ClickHouseEngine, ClickHouseQueryError } from './engine.js';

/** A ClickHouse server through the official HTTP client. */
export class ServerEngine implements ClickHouseEngine {
  readonly kind = 'server' as const;
  private readonly client: ClickHouseClient;

  constructor(url: string) {
    // The client's own error log would repeat what ClickHouseQueryError already says, with less context.
    this.client = createClient({ url, request_timeout: 60_000, log: { level: ClickHouseLogLevel.OFF } });
  }

  async command(sql: string): Promise<void> {
    try {
      await this.client.command({ query: sql });
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, sql, error);
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({ table, values: [...rows], format: 'JSONEachRow' });
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, `INSERT INTO ${table}`, error);
    }
  }

  async query<Row>(sql: string): Promise<Row[]> {
    try {
      const result = await this.client.query({ query: sql, format: 'JSONEachRow' });
      return await result.json<Row>();
    } catch (error) {
      throw new ClickHouseQueryError(this.kind, sql, error);
    }
  }

  async version(): Promise<string> {
    const [row] = await this.query<{ v: string }>('SELECT version() AS v');
    return row?.v ?? 'unknown';
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
